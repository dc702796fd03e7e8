"""The chat page at ``/``, the panel the embeddable script inserts, and the static script and stylesheet.

Everything a person reads is in responses/web/*.html.j2 (autoescaped); widget.js only fills in text with
``textContent``.
"""

from __future__ import annotations

from aiohttp import web

from bot.channels.web.errors import RESPONSES_KEY
from bot.channels.web.handlers import SERVICES_KEY
from responses import TEMPLATE_DIR

STATIC_DIR = TEMPLATE_DIR / "web" / "static"
_HTML = "text/html"
# The page loads only its own script, style and API; nothing from elsewhere.
_PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
)

page_routes = web.RouteTableDef()


@page_routes.get("/")
async def page_handler(request: web.Request) -> web.Response:
    """The full-page chat."""
    max_chars = request.app[SERVICES_KEY].max_message_chars
    body = request.app[RESPONSES_KEY].render("web/page.html.j2", embedded=False, max_chars=max_chars)
    return web.Response(text=body, content_type=_HTML, headers={"Content-Security-Policy": _PAGE_CSP})


@page_routes.get("/widget/panel")
async def panel_handler(request: web.Request) -> web.Response:
    """The chat panel's markup, fetched by widget.js on the embedding site."""
    max_chars = request.app[SERVICES_KEY].max_message_chars
    body = request.app[RESPONSES_KEY].render("web/panel.html.j2", embedded=True, max_chars=max_chars)
    return web.Response(text=body, content_type=_HTML, headers={"Cache-Control": "no-cache"})


@page_routes.get("/widget.js")
async def script_handler(request: web.Request) -> web.FileResponse:
    """The script a site embeds with one ``<script>`` tag."""
    return web.FileResponse(STATIC_DIR / "widget.js", headers={"Cache-Control": "no-cache"})


@page_routes.get("/static/widget.css")
async def style_handler(request: web.Request) -> web.FileResponse:
    """The chat's stylesheet."""
    return web.FileResponse(STATIC_DIR / "widget.css", headers={"Cache-Control": "no-cache"})


@page_routes.get("/favicon.svg")
@page_routes.get("/favicon.ico")
async def favicon_handler(request: web.Request) -> web.FileResponse:
    """The assistant's icon (an SVG: browsers take it at either address)."""
    return web.FileResponse(
        STATIC_DIR / "favicon.svg",
        headers={"Content-Type": "image/svg+xml", "Cache-Control": "public, max-age=86400"},
    )
