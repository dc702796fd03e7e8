"""Who is asking: the dashboard's session cookie and CSRF token, the API's bearer token.

The cookie holds an opaque random id (its hash is the server-side session row); it is HttpOnly,
SameSite=Strict, Path=/officer and Secure when the workspace is served over https. Every POST carries the
session's CSRF token in a ``csrf_token`` field (compared in constant time); the login form, which has no
session yet, uses a double-submit token in a short-lived cookie instead.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field

from aiohttp import web

from bot.officer.accounts import OfficerAccounts, OfficerIdentity, SignedIn
from bot.tickets.service import TicketService
from responses import Responses

SESSION_COOKIE = "pb_officer"
LOGIN_COOKIE = "pb_officer_login"
CSRF_FIELD = "csrf_token"
COOKIE_PATH = "/officer"


class LoginThrottle:
    """Refuses sign-in after ``limit`` failures within ``window`` seconds for one address or one client."""

    def __init__(self, limit: int = 10, window: float = 900.0) -> None:
        """Allow ``limit`` failures per key per ``window`` seconds."""
        self.limit = limit
        self.window = window
        self._failures: defaultdict[str, deque[float]] = defaultdict(deque)

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures[key]
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def blocked(self, *keys: str) -> bool:
        """True when any of ``keys`` failed too often lately."""
        now = time.monotonic()
        return any(len(self._recent(key, now)) >= self.limit for key in keys)

    def failed(self, *keys: str) -> None:
        """Count one failure for each of ``keys``."""
        now = time.monotonic()
        for key in keys:
            self._recent(key, now).append(now)


@dataclass(frozen=True)
class OfficerWebServices:
    """What the officer handlers use, built once by the wiring point."""

    desk: TicketService
    accounts: OfficerAccounts
    responses: Responses
    secure_cookies: bool = False
    throttle: LoginThrottle = field(default_factory=LoginThrottle)


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


def tokens_match(expected: str | None, given: object) -> bool:
    """Constant-time comparison of a CSRF token (missing on either side never matches)."""
    return bool(expected) and isinstance(given, str) and hmac.compare_digest(expected or "", given)


def bearer_token(request: web.Request) -> str | None:
    """The token of ``Authorization: Bearer <token>``, if any."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None
