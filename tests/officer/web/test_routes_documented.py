"""Every HTTP route the running application registers is in its OpenAPI document, with its status codes."""

from __future__ import annotations

from aiohttp import hdrs, web

from bot.channels.web.pages import page_routes
from tests.officer.web.conftest import OfficerServer

# Pages for browsers (the widget's and the officer's HTML dashboard) and the document itself: not the JSON API
# the document describes.
UNDOCUMENTED = {route.path for route in page_routes if isinstance(route, web.RouteDef)} | {
    "/api/openapi.json"
}
UNDOCUMENTED_PREFIXES = ("/officer",)


async def test_every_registered_route_is_documented(officer_server: OfficerServer) -> None:
    """Each (path, method) of the web chat and the officer API appears in the served document, with at
    least one status code, and the document lists no path the application does not serve."""
    async with officer_server.http.get(f"{officer_server.url}/api/openapi.json") as response:
        document = await response.json()
    registered: set[tuple[str, str]] = set()
    for route in officer_server.channel.app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if route.method == hdrs.METH_HEAD or path in UNDOCUMENTED or path.startswith(UNDOCUMENTED_PREFIXES):
            continue
        registered.add((path, route.method.lower()))
    documented = {
        (path, method)
        for path, operations in document["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    }
    assert registered, "no route registered"
    assert registered - documented == set()
    assert documented - registered == set()
    for path, method in registered:
        assert document["paths"][path][method]["responses"], f"{method.upper()} {path} lists no status code"
