"""The chat page at ``/``, the panel the embeddable script inserts, and the static script and stylesheet.

Everything a person reads is in responses/web/*.html.j2 (autoescaped), rendered in the language the request
asks for (``?lang=``, else Accept-Language); widget.js only fills in text with ``textContent``, and fetches
the panel again in the language the person switches to.
"""

from __future__ import annotations

from aiohttp import web

from bot.channels.web.errors import RESPONSES_KEY
from bot.channels.web.handlers import SERVICES_KEY
from bot.channels.web.language import request_language
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
    return web.Response(
        text=_render_panel(request, "web/page.html.j2", embedded=False),
        content_type=_HTML,
        headers={"Content-Security-Policy": _PAGE_CSP, "Vary": "Accept-Language"},
    )


@page_routes.get("/widget/panel")
async def panel_handler(request: web.Request) -> web.Response:
    """The chat panel's markup, fetched by widget.js on the embedding site (and again, for its words, when
    the person switches language)."""
    return web.Response(
        text=_render_panel(request, "web/panel.html.j2", embedded=True),
        content_type=_HTML,
        headers={"Cache-Control": "no-cache", "Vary": "Accept-Language"},
    )


def _render_panel(request: web.Request, template: str, *, embedded: bool) -> str:
    max_chars = request.app[SERVICES_KEY].max_message_chars
    lang = request_language(request)
    return request.app[RESPONSES_KEY].render_in(lang, template, embedded=embedded, max_chars=max_chars)


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
