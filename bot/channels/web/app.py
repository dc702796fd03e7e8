"""The web channel: the aiohttp Application (chat API, page, widget, health check) and the server running it.

Other channels add their own routes to ``WebChannel.app`` before ``start()`` (Telegram's webhook), so the
process serves HTTP on one port.
"""

from __future__ import annotations

import logging
from importlib.metadata import PackageNotFoundError, version
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.typedefs import Handler
from aiohttp.web_runner import TCPSite

from bot.channels.base import HandleInbound
from bot.channels.web.errors import BODY_LIMIT_KEY, RESPONSES_KEY, errors_middleware
from bot.channels.web.handlers import SERVICES_KEY, WebServices, build_openapi, routes
from bot.channels.web.history import WebHistory
from bot.channels.web.hub import WebSocketHub
from bot.channels.web.pages import page_routes
from bot.channels.web.sessions import SessionIds, load_session_key
from bot.cluster.health import WorkerHealth
from bot.cluster.ratelimit import Allowance
from bot.cluster.shared import SharedState, local_state
from bot.deliveries import ReturnListener
from bot.domain.channels import ChannelName
from bot.http.clients import ClientAddresses, parse_networks
from bot.messages import OutboundMessage
from bot.settings import Settings
from responses import Responses

log = logging.getLogger(__name__)

SHUTDOWN_TIMEOUT = 10.0
_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type",
    "Access-Control-Max-Age": "600",
}
_CORS_PREFIXES = ("/api/", "/widget/")
# The officer API carries bearer tokens for the privacy team: no other site's page may call it.
_NO_CORS_PREFIXES = ("/api/officer",)
MINUTE = 60
# People behind one address (an office, a mobile carrier's NAT) share its allowance.
ADDRESS_SHARE = 10


class RouteAccessLogger(AbstractAccessLogger):
    """Logs the route pattern, never the path: paths carry session ids."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        """One line per request: method, route, status, milliseconds."""
        route = "-"
        if isinstance(request, web.Request) and request.match_info.route.resource is not None:
            route = request.match_info.route.resource.canonical
        self.logger.info("%s %s %s %.1fms", request.method, route, response.status, time * 1000)


@web.middleware
async def cors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Let pages on other sites that embed the widget call the API (no cookies are used, so ``*`` is safe)."""
    if not request.path.startswith(_CORS_PREFIXES) or request.path.startswith(_NO_CORS_PREFIXES):
        return await handler(request)
    if request.method == "OPTIONS":
        return web.Response(status=204, headers=_CORS)
    response = await handler(request)
    response.headers.update(_CORS)
    return response


def allowed_origins(settings: Settings) -> frozenset[str]:
    """``PRIVACYBOT_ALLOWED_ORIGINS`` and the origin of ``PRIVACYBOT_PUBLIC_URL`` (the origin a request
    was addressed to is always allowed besides)."""
    origins = {origin.strip().rstrip("/").lower() for origin in settings.allowed_origins if origin.strip()}
    if settings.public_url:
        parts = urlsplit(settings.public_url)
        origins.add(f"{parts.scheme}://{parts.netloc}".lower())
    return frozenset(origins)


def _package_version() -> str:
    try:
        return version("privacybot")
    except PackageNotFoundError:
        return "0"


def build_web_app(
    settings: Settings,
    handle: HandleInbound,
    history: WebHistory,
    responses: Responses,
    hub: WebSocketHub,
    shared: SharedState,
    health: WorkerHealth,
) -> web.Application:
    """The Application with the chat API, page and widget; nothing listens until a runner starts it."""
    body_limit = settings.max_message_chars * 4 + 4096  # UTF-8 worst case plus the JSON around it
    app = web.Application(middlewares=[cors_middleware, errors_middleware], client_max_size=body_limit)
    app[RESPONSES_KEY] = responses
    app[BODY_LIMIT_KEY] = body_limit
    app[SERVICES_KEY] = WebServices(
        handle=handle,
        history=history,
        hub=hub,
        session_ids=SessionIds(load_session_key(settings)),
        responses=responses,
        max_message_chars=settings.max_message_chars,
        per_session=shared.limiter(Allowance("web-session", settings.rate_limit_per_minute, MINUTE)),
        per_address=shared.limiter(
            Allowance("web-address", settings.rate_limit_per_minute * ADDRESS_SHARE, MINUTE)
        ),
        shared=shared,
        health=health,
        trusted_proxies=frozenset(settings.trusted_proxies),
        openapi=build_openapi(version=_package_version(), server_url=settings.public_url),
        clients=ClientAddresses(parse_networks(settings.trusted_proxies)),
        allowed_origins=allowed_origins(settings),
    )
    app.add_routes(routes.definitions())
    app.add_routes(page_routes)

    async def close_sockets(_: web.Application) -> None:
        await hub.close_all()

    app.on_shutdown.append(close_sockets)
    return app


class WebChannel:
    """The HTTP server and the web chat on it; ``deliver`` pushes later messages to open pages."""

    name = ChannelName.WEB

    def __init__(self, app: web.Application, hub: WebSocketHub, *, host: str, port: int) -> None:
        self.app = app
        self._hub = hub
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self._site: TCPSite | None = None

    @property
    def port(self) -> int:
        """The port listened on (the real one when the settings asked for 0)."""
        if self._runner is not None and self._runner.addresses:
            return int(self._runner.addresses[0][1])
        return self._port

    @property
    def url(self) -> str:
        """``http://host:port``."""
        return f"http://{self._host}:{self.port}"

    async def start(self) -> None:
        """Listen on the configured host and port. Routes can no longer be added after this."""
        self._runner = web.AppRunner(
            self.app, access_log_class=RouteAccessLogger, shutdown_timeout=SHUTDOWN_TIMEOUT
        )
        await self._runner.setup()
        self._site = TCPSite(self._runner, self._host, self._port)
        await self._site.start()
        log.info("web chat listening on %s", self.url)

    async def stop(self) -> None:
        """Stop listening, close websockets, and let requests in progress finish."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
            self._site = None

    async def deliver(self, message: OutboundMessage) -> None:
        """Store ``message`` in the session's history and push it to its open pages."""
        await self._hub.deliver(message)

    async def reaches_now(self, recipient_id: str) -> bool:
        """True while a page of the session is open, on any worker."""
        return await self._hub.reaches_now(recipient_id)

    def on_return(self, listener: ReturnListener) -> None:
        """Call ``listener`` when a page of a session opens."""
        self._hub.on_return(listener)


def build_web_channel(
    settings: Settings,
    handle: HandleInbound,
    history: WebHistory,
    responses: Responses,
    *,
    shared: SharedState | None = None,
    health: WorkerHealth | None = None,
) -> WebChannel:
    """The web channel, ready for other channels to add routes to ``.app`` and then to ``start()``.

    ``shared`` is the cluster's push bus and rate-limit storage (default: this process's own); ``health``
    probes what ``/healthz`` and ``/readyz`` report (default: Redis only, ready at once)."""
    shared = shared or local_state()
    hub = WebSocketHub(history, shared.bus, shared.presence)
    app = build_web_app(settings, handle, history, responses, hub, shared, health or WorkerHealth(shared))
    return WebChannel(app, hub, host=settings.web_host, port=settings.web_port)
