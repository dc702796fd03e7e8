"""Who is asking: the dashboard's session cookie and CSRF token, the API's bearer token.

The cookie holds an opaque random id (its hash is the server-side session row); it is HttpOnly,
SameSite=Strict, Path=/officer and Secure when the workspace is served over https. Every POST carries the
session's CSRF token in a ``csrf_token`` field (compared in constant time); the login form, which has no
session yet, uses a double-submit token in a short-lived cookie instead.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from typing import Protocol

from aiohttp import web

from bot.http.clients import ClientAddresses
from bot.identity.directory import AccountDirectory
from bot.officer.accounts import OfficerAccounts, OfficerIdentity, SignedIn
from bot.officer.throttle import SignInThrottle
from bot.tickets.service import TicketService
from responses import Responses

SESSION_COOKIE = "pb_officer"
LOGIN_COOKIE = "pb_officer_login"
CSRF_FIELD = "csrf_token"
COOKIE_PATH = "/officer"


class LiveSockets(Protocol):
    """Where open live-inbox websockets are kept (the web channel's hub, which publishes to them)."""

    def add(self, topic: str, socket: web.WebSocketResponse) -> None:
        """Register ``socket`` under ``topic``."""
        ...

    def remove(self, topic: str, socket: web.WebSocketResponse) -> None:
        """Forget ``socket``."""
        ...


@dataclass(frozen=True)
class OfficerWebServices:
    """What the officer handlers use, built once by the wiring point."""

    desk: TicketService
    accounts: OfficerAccounts
    responses: Responses
    throttle: SignInThrottle
    directory: AccountDirectory
    secure_cookies: bool = False
    clients: ClientAddresses = field(default_factory=ClientAddresses)
    live: LiveSockets | None = None


SERVICES_KEY = web.AppKey("officer_web", OfficerWebServices)
SIGNED_IN_KEY = web.RequestKey("officer_signed_in", SignedIn)
IDENTITY_KEY = web.RequestKey("officer_identity", OfficerIdentity)


def is_secure(request: web.Request, services: OfficerWebServices) -> bool:
    """Cookies get ``Secure`` when configured for https or when this request came over TLS."""
    return services.secure_cookies or request.secure


def set_cookie(
    response: web.StreamResponse,
    request: web.Request,
    services: OfficerWebServices,
    name: str,
    value: str,
    max_age: int | None,
) -> None:
    """Set an HttpOnly, SameSite=Strict cookie scoped to the dashboard (``max_age`` None: until the browser
    closes; the server-side session expires on its own)."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=COOKIE_PATH,
        httponly=True,
        samesite="Strict",
        secure=is_secure(request, services),
    )


def clear_cookie(response: web.StreamResponse, name: str) -> None:
    """Remove a dashboard cookie."""
    response.del_cookie(name, path=COOKIE_PATH)


def new_login_token() -> str:
    """A fresh double-submit token for the login form."""
    return secrets.token_urlsafe(32)


def malformed_token(given: object) -> bool:
    """True for a CSRF token no server could have issued (not text, or not ASCII): a bad request (400),
    unlike a well-formed wrong token (403)."""
    return given is not None and (not isinstance(given, str) or not given.isascii())


def tokens_match(expected: str | None, given: object) -> bool:
    """Constant-time comparison of a CSRF token (missing on either side never matches). Compared as UTF-8
    bytes: ``compare_digest`` refuses non-ASCII text with a TypeError."""
    if not expected or not isinstance(given, str):
        return False
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "surrogatepass"))


def bearer_token(request: web.Request) -> str | None:
    """The token of ``Authorization: Bearer <token>``, if any."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None
