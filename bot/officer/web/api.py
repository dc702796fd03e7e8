"""The officer JSON API at ``/api/officer``: the dashboard's operations for scripts and tools.

Authentication is ``Authorization: Bearer <token>`` (``privacybot officer token EMAIL``). Handlers only
translate: validate with the pydantic models, call the TicketService, answer JSON. Errors become
``{"error": {"code", "message"}}`` in one middleware.
"""

from __future__ import annotations

import logging
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.typedefs import Handler
from pydantic import BaseModel, ValidationError

from bot.domain.errors import OfficerError, TicketError, TicketNotFound
from bot.http.json_body import InvalidJsonBody, read_json
from bot.http.routes import RouteTable
from bot.officer.web.forms import InvalidField, queue_filter
from bot.officer.web.openapi import (
    ASSIGN,
    END_HANDOFF,
    EXPORT_TICKETS,
    EXTEND,
    GET_TICKET,
    LIST_TICKETS,
    PREFIX,
    REPLY,
    SET_STATUS,
    add_officer_schemas,
)
from bot.officer.web.schemas import (
    AssignmentRequest,
    ExtensionRequest,
    OfficerErrorBody,
    OfficerErrorResponse,
    OfficerTicket,
    ReplyRequest,
    ReplyResult,
    StatusRequest,
    TicketDetailOut,
    TicketList,
    TicketResult,
)
from bot.officer.web.security import IDENTITY_KEY, SERVICES_KEY, OfficerWebServices, bearer_token
from bot.store.ticket_views import TicketView
from bot.tickets.queue import sla_item

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)
routes = RouteTable()


class ApiRefused(Exception):
    """A request the API refuses with ``status`` and ``code``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _error(status: int, code: str, message: str) -> web.Response:
    body = OfficerErrorResponse(error=OfficerErrorBody(code=code, message=message))
    return web.json_response(body.model_dump(mode="json"), status=status)


def _json(model: BaseModel, status: int = 200) -> web.Response:
    return web.json_response(model.model_dump(mode="json"), status=status)


@web.middleware
async def api_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Bearer-token authentication, and the one place errors become JSON answers."""
    token = bearer_token(request)
    officer = await request.app[SERVICES_KEY].accounts.officer_for_token(token) if token else None
    if officer is None:
        return _error(401, "unauthorized", "Send a valid officer token: Authorization: Bearer <token>.")
    request[IDENTITY_KEY] = officer
    try:
        return await handler(request)
    except ApiRefused as exc:
        return _error(exc.status, exc.code, exc.message)
    except TicketNotFound as exc:
        return _error(404, "ticket_not_found", f"No ticket {exc.reference}.")
    except (TicketError, OfficerError, InvalidField) as exc:
        log.info("officer API refused: %s", type(exc).__name__)
        return _error(409 if isinstance(exc, TicketError) else 400, type(exc).__name__, str(exc))


async def _body(request: web.Request, model: type[M]) -> M:
    try:
        payload: Any = await read_json(request)
    except InvalidJsonBody as exc:
        raise ApiRefused(400, "invalid_json", "The body is not JSON.") from exc
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors())
        raise ApiRefused(400, "invalid_request", problems) from exc


def _ticket(request: web.Request, view: TicketView) -> OfficerTicket:
    return OfficerTicket.of(sla_item(view, request.app[SERVICES_KEY].desk.now()))


@routes.get("/tickets", LIST_TICKETS)
async def list_handler(request: web.Request) -> web.Response:
    """The queue, filtered by ``kind``, ``status`` and ``channel``."""
    items = await request.app[SERVICES_KEY].desk.queue(queue_filter(request.query))
    return _json(TicketList(tickets=[OfficerTicket.of(item) for item in items]))


@routes.get("/tickets.csv", EXPORT_TICKETS)
async def export_handler(request: web.Request) -> web.Response:
    """The filtered tickets (every status unless filtered) as CSV."""
    text = await request.app[SERVICES_KEY].desk.export_csv(queue_filter(request.query, every_status=True))
    return web.Response(text=text, content_type="text/csv", charset="utf-8")


@routes.get("/tickets/{reference}", GET_TICKET)
async def detail_handler(request: web.Request) -> web.Response:
    """One ticket with its audit trail and transcript."""
    page = await request.app[SERVICES_KEY].desk.page(request.match_info["reference"])
    if page is None:
        raise TicketNotFound(request.match_info["reference"])
    return _json(TicketDetailOut.of(page))


@routes.post("/tickets/{reference}/replies", REPLY)
async def reply_handler(request: web.Request) -> web.Response:
    """Send a reply to the requester on the ticket's channel."""
    body = await _body(request, ReplyRequest)
    sent = await request.app[SERVICES_KEY].desk.reply(
        request.match_info["reference"], body.text, officer=request[IDENTITY_KEY].email
    )
    return _json(
        ReplyResult(
            ticket=_ticket(request, sent.ticket), first_response=sent.first_response, delivered=sent.delivered
        ),
        status=201,
    )


@routes.post("/tickets/{reference}/status", SET_STATUS)
async def status_handler(request: web.Request) -> web.Response:
    """Change the status (a rejection needs a reason)."""
    body = await _body(request, StatusRequest)
    view = await request.app[SERVICES_KEY].desk.set_status(
        request.match_info["reference"], body.status, officer=request[IDENTITY_KEY].email, reason=body.reason
    )
    return _json(TicketResult(ticket=_ticket(request, view)))


@routes.post("/tickets/{reference}/extension", EXTEND)
async def extension_handler(request: web.Request) -> web.Response:
    """Extend the resolution deadline."""
    body = await _body(request, ExtensionRequest)
    view = await request.app[SERVICES_KEY].desk.extend(
        request.match_info["reference"], body.months, body.reason, officer=request[IDENTITY_KEY].email
    )
    return _json(TicketResult(ticket=_ticket(request, view)))


@routes.post("/tickets/{reference}/assignment", ASSIGN)
async def assignment_handler(request: web.Request) -> web.Response:
    """Assign the ticket."""
    body = await _body(request, AssignmentRequest)
    view = await request.app[SERVICES_KEY].desk.assign(
        request.match_info["reference"], body.assignee, officer=request[IDENTITY_KEY].email
    )
    return _json(TicketResult(ticket=_ticket(request, view)))


@routes.post("/tickets/{reference}/handoff/end", END_HANDOFF)
async def end_handoff_handler(request: web.Request) -> web.Response:
    """End the live handoff: the assistant answers the person again."""
    view = await request.app[SERVICES_KEY].desk.end_handoff(
        request.match_info["reference"], officer=request[IDENTITY_KEY].email
    )
    return _json(TicketResult(ticket=_ticket(request, view)))


def build_api_app(services: OfficerWebServices) -> web.Application:
    """The API sub-application (mounted at ``/api/officer``)."""
    app = web.Application(middlewares=[api_middleware])
    app[SERVICES_KEY] = services
    app.add_routes(routes.definitions())
    return app


def add_officer_paths(document: dict[str, Any]) -> dict[str, Any]:
    """Merge the officer API (every route of the table, under ``/api/officer``) into ``document``."""
    return add_officer_schemas(document, routes.paths(PREFIX))
