"""The HTML dashboard at ``/officer``: thin handlers that read a form, call the TicketService and render a
template (responses/officer/*.html.j2, autoescaped). Sign-in and CSRF checks happen in one middleware;
refused operations become a page with a clear message in one place (``errors_middleware``)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlencode

from aiohttp import WSMsgType, web
from aiohttp.typedefs import Handler

from bot.domain.channels import ChannelName
from bot.domain.errors import OfficerError, TicketError, TicketNotFound
from bot.domain.tickets import Priority, RequestKind, TicketStatus
from bot.officer.inbox import INBOX_TOPIC
from bot.officer.web.forms import (
    InvalidField,
    QueueOrder,
    QueueSort,
    months_of,
    queue_filter,
    queue_sort,
    status_of,
)
from bot.officer.web.security import (
    CSRF_FIELD,
    LOGIN_COOKIE,
    SERVICES_KEY,
    SESSION_COOKIE,
    SIGNED_IN_KEY,
    OfficerWebServices,
    clear_cookie,
    malformed_token,
    new_login_token,
    set_cookie,
    tokens_match,
)
from bot.tickets.queue import QueueItem, SlaMark, TicketPage
from responses import TEMPLATE_DIR

log = logging.getLogger(__name__)

_HTML = "text/html"
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
_PUBLIC = ("/officer/login", "/officer/static/officer.css", "/officer/static/officer.js")
STATIC_CSS = TEMPLATE_DIR / "officer" / "static" / "officer.css"
STATIC_JS = TEMPLATE_DIR / "officer" / "static" / "officer.js"
routes = web.RouteTableDef()


def render(request: web.Request, template: str, status: int = 200, **values: object) -> web.Response:
    """A page from ``officer/<template>``, with the signed-in officer and CSRF token when there is one."""
    signed_in = request.get(SIGNED_IN_KEY)
    body = request.app[SERVICES_KEY].responses.render(
        f"officer/{template}",
        signed_in=signed_in,
        csrf_token=signed_in.csrf_token if signed_in else "",
        kinds=list(RequestKind),
        statuses=list(TicketStatus),
        channels=list(ChannelName),
        **values,
    )
    return web.Response(text=body, status=status, content_type=_HTML, headers=_HEADERS)


def render_error(
    request: web.Request, status: int, problem: str, reference: str | None = None, seconds: int = 0
) -> web.Response:
    """The page saying why an operation was refused."""
    return render(
        request, "error.html.j2", status=status, problem=problem, reference=reference, seconds=seconds
    )


@web.middleware
async def session_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Everything but the login page and the stylesheet needs a live session; every POST its CSRF token."""
    if request.path in _PUBLIC:
        return await handler(request)
    services = request.app[SERVICES_KEY]
    session_id = request.cookies.get(SESSION_COOKIE)
    signed_in = await services.accounts.session(session_id) if session_id else None
    if signed_in is None:
        if request.method == "GET":
            raise web.HTTPSeeOther("/officer/login")
        return render_error(request, 403, "signed_out")
    request[SIGNED_IN_KEY] = signed_in
    if request.method == "POST":
        form = await request.post()
        if malformed_token(form.get(CSRF_FIELD)):
            return render_error(request, 400, "csrf")
        if not tokens_match(signed_in.csrf_token, form.get(CSRF_FIELD)):
            log.warning("officer form refused: CSRF token missing or wrong")
            return render_error(request, 403, "csrf")
    return await handler(request)


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The one place a refused operation becomes a page."""
    try:
        return await handler(request)
    except TicketNotFound as exc:
        return render_error(request, 404, "not_found", exc.reference)
    except (TicketError, OfficerError, InvalidField) as exc:
        problem = type(exc).__name__
        form = request.path.rsplit("/", 1)[-1]  # reply, status, extend, assign, end-handoff
        reference = request.match_info.get("reference")
        if request.method == "POST" and reference and form:
            page = await request.app[SERVICES_KEY].desk.page(reference)
            if page is not None:  # shown on the form that was refused, with the rest of the page
                return await _ticket_page(request, page, status=400, form_error=(form, problem))
        return render_error(request, 400, problem, getattr(exc, "reference", None))


@routes.get("/login")
async def login_form_handler(request: web.Request) -> web.Response:
    """The sign-in form, with a fresh double-submit token."""
    token = new_login_token()
    response = render(request, "login.html.j2", login_token=token, failed=False)
    set_cookie(response, request, request.app[SERVICES_KEY], LOGIN_COOKIE, token, max_age=3600)
    return response


@routes.post("/login")
async def login_handler(request: web.Request) -> web.Response:
    """Check the form's token, then the address and password; on success set the session cookie."""
    services = request.app[SERVICES_KEY]
    form = await request.post()
    if malformed_token(form.get(CSRF_FIELD)):
        return render_error(request, 400, "csrf")
    if not tokens_match(request.cookies.get(LOGIN_COOKIE), form.get(CSRF_FIELD)):
        return render_error(request, 403, "csrf")
    email = str(form.get("email", "")).strip().lower()
    client = services.clients.of(request)
    wait = await services.throttle.claim(account=email, client=client)  # counted before the check
    if wait:
        log.warning("officer sign-in refused: too many failures (retry in %d s)", wait)
        response = render_error(request, 429, "throttled", seconds=wait)
        response.headers["Retry-After"] = str(wait)
        return response
    signed_in = await services.accounts.sign_in(email, str(form.get("password", "")))
    if signed_in is None:
        token = new_login_token()
        response = render(request, "login.html.j2", status=401, login_token=token, failed=True)
        set_cookie(response, request, services, LOGIN_COOKIE, token, max_age=3600)
        return response
    await services.throttle.succeeded(account=email, client=client)
    response = web.HTTPSeeOther("/officer/")
    set_cookie(response, request, services, SESSION_COOKIE, signed_in.session_id, max_age=None)
    clear_cookie(response, LOGIN_COOKIE)
    raise response


@routes.post("/logout")
async def logout_handler(request: web.Request) -> web.Response:
    """End the session."""
    await request.app[SERVICES_KEY].accounts.sign_out(request[SIGNED_IN_KEY].session_id)
    response = web.HTTPSeeOther("/officer/login")
    clear_cookie(response, SESSION_COOKIE)
    raise response


_PRIORITY_RANK = {Priority.URGENT: 0, Priority.HIGH: 1, Priority.NORMAL: 2}
_SORT_KEYS: dict[QueueOrder, Callable[[QueueItem], Any]] = {
    QueueOrder.TIME_LEFT: lambda item: item.time_left,
    QueueOrder.PRIORITY: lambda item: (_PRIORITY_RANK[item.ticket.priority], item.time_left),
    QueueOrder.REFERENCE: lambda item: item.ticket.reference,
    QueueOrder.KIND: lambda item: item.ticket.kind.value,
    QueueOrder.STATUS: lambda item: item.ticket.status.value,
    QueueOrder.CHANNEL: lambda item: item.ticket.channel.value,
    QueueOrder.ASSIGNEE: lambda item: (item.ticket.assignee is None, item.ticket.assignee or ""),
    QueueOrder.OPENED: lambda item: item.ticket.created_at,
}


def sort_queue(items: Sequence[QueueItem], sort: QueueSort) -> list[QueueItem]:
    """``items`` (least time left first) ordered by ``sort``; ties keep the least time left first."""
    return sorted(items, key=_SORT_KEYS[sort.order], reverse=sort.descending)


def _mark_counts(items: Sequence[QueueItem]) -> dict[str, int]:
    return {mark.value: sum(item.mark is mark for item in items) for mark in SlaMark}


@routes.get("/")
async def queue_handler(request: web.Request) -> web.Response:
    """The queue, urgent first and then by time left (or sorted by a column), filtered by kind, status and
    channel."""
    filters = queue_filter(request.query)
    sort = queue_sort(request.query)
    items = sort_queue(await request.app[SERVICES_KEY].desk.queue(filters), sort)
    kept = [(key, value) for key, value in request.query.items() if key != "sort" and value]
    filter_query = urlencode(kept)
    return render(
        request,
        "queue.html.j2",
        items=items,
        filters=filters,
        filtered=bool(filter_query),
        sort=sort,
        orders=QueueOrder,
        counts=_mark_counts(items),
        filter_query=filter_query,
        export_query=filter_query,
    )


@routes.get("/export.csv")
async def export_handler(request: web.Request) -> web.Response:
    """The filtered tickets (every status unless filtered) as a CSV file."""
    text = await request.app[SERVICES_KEY].desk.export_csv(queue_filter(request.query, every_status=True))
    return web.Response(
        text=text,
        content_type="text/csv",
        charset="utf-8",
        headers={**_HEADERS, "Content-Disposition": 'attachment; filename="tickets.csv"'},
    )


@routes.get("/tickets/{reference}")
async def ticket_handler(request: web.Request) -> web.Response:
    """A ticket's page: transcript, identity, requester, audit trail and the forms."""
    page = await request.app[SERVICES_KEY].desk.page(request.match_info["reference"])
    if page is None:
        raise TicketNotFound(request.match_info["reference"])
    return await _ticket_page(request, page)


async def _ticket_page(
    request: web.Request, page: TicketPage, *, status: int = 200, form_error: tuple[str, str] | None = None
) -> web.Response:
    """The ticket page; ``form_error`` (form, problem) shows why that form was refused, on the form."""
    officers = await request.app[SERVICES_KEY].accounts.list_officers()
    return render(
        request,
        "ticket.html.j2",
        status=status,
        page=page,
        officers=officers,
        notice=request.query.get("done", ""),
        form_error=form_error,
    )


def _back(reference: str, done: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(f"/officer/tickets/{reference}?done={done}")


@routes.post("/tickets/{reference}/reply")
async def reply_handler(request: web.Request) -> web.Response:
    """Send the reply box's text to the requester."""
    form = await request.post()
    officer = request[SIGNED_IN_KEY].officer.email
    sent = await request.app[SERVICES_KEY].desk.reply(
        request.match_info["reference"], str(form.get("text", "")), officer=officer
    )
    raise _back(sent.ticket.reference, "kept" if sent.kept else "replied" if sent.delivered else "queued")


@routes.post("/tickets/{reference}/status")
async def status_handler(request: web.Request) -> web.Response:
    """Change the status (a rejection with its reason)."""
    form = await request.post()
    view = await request.app[SERVICES_KEY].desk.set_status(
        request.match_info["reference"],
        status_of(form.get("status")),
        officer=request[SIGNED_IN_KEY].officer.email,
        reason=str(form.get("reason", "")),
    )
    raise _back(view.reference, "status")


@routes.post("/tickets/{reference}/extend")
async def extend_handler(request: web.Request) -> web.Response:
    """Extend the deadline with a reason."""
    form = await request.post()
    view = await request.app[SERVICES_KEY].desk.extend(
        request.match_info["reference"],
        months_of(form.get("months")),
        str(form.get("reason", "")),
        officer=request[SIGNED_IN_KEY].officer.email,
    )
    raise _back(view.reference, "extended")


@routes.post("/tickets/{reference}/assign")
async def assign_handler(request: web.Request) -> web.Response:
    """Assign the ticket (empty: nobody)."""
    form = await request.post()
    view = await request.app[SERVICES_KEY].desk.assign(
        request.match_info["reference"],
        str(form.get("assignee", "")),
        officer=request[SIGNED_IN_KEY].officer.email,
    )
    raise _back(view.reference, "assigned")


@routes.post("/tickets/{reference}/end-handoff")
async def end_handoff_handler(request: web.Request) -> web.Response:
    """Hand the conversation back to the assistant."""
    view = await request.app[SERVICES_KEY].desk.end_handoff(
        request.match_info["reference"], officer=request[SIGNED_IN_KEY].officer.email
    )
    raise _back(view.reference, "handoff_ended")


async def root_redirect_handler(request: web.Request) -> web.Response:
    """``/officer`` → ``/officer/``."""
    raise web.HTTPMovedPermanently("/officer/")


@routes.get("/static/officer.js")
async def script_handler(request: web.Request) -> web.FileResponse:
    """The dashboard's script: the live inbox, unread markers, the transcript scrolled to the newest."""
    return web.FileResponse(STATIC_JS, headers={"Cache-Control": "no-cache"})


@routes.get("/live")
async def live_handler(request: web.Request) -> web.WebSocketResponse:
    """The live inbox: a websocket that receives an event for every change on any ticket."""
    live = request.app[SERVICES_KEY].live
    socket = web.WebSocketResponse(heartbeat=30.0)
    await socket.prepare(request)
    if live is None:
        await socket.close()
        return socket
    live.add(INBOX_TOPIC, socket)
    try:
        async for message in socket:  # nothing to read; reading keeps it open
            if message.type is WSMsgType.ERROR:
                break
    finally:
        live.remove(INBOX_TOPIC, socket)
    return socket


@routes.get("/static/officer.css")
async def style_handler(request: web.Request) -> web.FileResponse:
    """The dashboard's stylesheet."""
    return web.FileResponse(STATIC_CSS, headers={"Cache-Control": "no-cache"})


def build_dashboard_app(services: OfficerWebServices) -> web.Application:
    """The dashboard sub-application (mounted at ``/officer``)."""
    app = web.Application(middlewares=[errors_middleware, session_middleware])
    app[SERVICES_KEY] = services
    app.add_routes(routes)
    return app
