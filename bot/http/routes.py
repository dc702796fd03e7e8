"""One route table per HTTP API: it registers every handler and holds that route's OpenAPI operation, so the
document lists exactly the routes served (tests/officer/web/test_routes_documented.py checks it)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler


@dataclass(frozen=True)
class DocumentedRoute:
    """A served route and its OpenAPI operation (status codes, payload models)."""

    method: str
    path: str
    handler: Handler
    operation: Mapping[str, Any]


class RouteTable:
    """Like aiohttp's ``RouteTableDef``, with each route's OpenAPI operation beside its handler."""

    def __init__(self) -> None:
        self._routes: list[DocumentedRoute] = []

    def route(self, method: str, path: str, operation: Mapping[str, Any]) -> Callable[[Handler], Handler]:
        """Register the decorated handler for ``method`` ``path``, documented by ``operation``."""

        def register(handler: Handler) -> Handler:
            self._routes.append(DocumentedRoute(method, path, handler, operation))
            return handler

        return register

    def get(self, path: str, operation: Mapping[str, Any]) -> Callable[[Handler], Handler]:
        """A GET route."""
        return self.route(hdrs.METH_GET, path, operation)

    def post(self, path: str, operation: Mapping[str, Any]) -> Callable[[Handler], Handler]:
        """A POST route."""
        return self.route(hdrs.METH_POST, path, operation)

    def __iter__(self) -> Iterator[DocumentedRoute]:
        return iter(self._routes)

    def definitions(self) -> list[web.RouteDef]:
        """The routes for ``Application.add_routes``."""
        return [web.route(r.method, r.path, r.handler) for r in self._routes]

    def paths(self, prefix: str = "") -> dict[str, Any]:
        """The OpenAPI ``paths`` of these routes, each path under ``prefix`` (where the app is mounted); a
        route registered with an empty operation (the document itself) is left out."""
        paths: dict[str, Any] = {}
        for r in self._routes:
            if not r.operation:
                continue
            paths.setdefault(prefix + r.path, {})[r.method.lower()] = dict(r.operation)
        return paths
