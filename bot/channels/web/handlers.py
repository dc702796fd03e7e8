"""The web chat's routes. Each handler only translates: JSON in, InboundMessage to ``handle``, JSON out."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web
from pydantic import BaseModel, ValidationError

from bot.channels.base import HandleInbound
from bot.channels.web.api import (
    ChatRequest,
    ChatResponse,
    Health,
    HistoryMessage,
    HistoryResponse,
    QuickReplyChoice,
    Readiness,
    SessionCreated,
)
from bot.channels.web.errors import ForbiddenOrigin, InvalidJson, InvalidRequest, MessageTooLong, RateLimited
from bot.channels.web.history import WebHistory, quote_of
from bot.channels.web.hub import WebSocketHub
from bot.channels.web.openapi import CHAT, CREATE_SESSION, HEALTH, HISTORY, PUSH, READY, openapi_document
from bot.channels.web.sessions import SessionIds
from bot.cluster.health import WorkerHealth
from bot.cluster.ratelimit import RateLimiter
from bot.cluster.shared import SharedState
from bot.domain.channels import ChannelName
from bot.http.clients import ClientAddresses
from bot.http.json_body import InvalidJsonBody, read_json
from bot.http.routes import RouteTable
from bot.messages import InboundMessage
from responses import Responses

log = logging.getLogger(__name__)


@dataclass
class WebServices:
    """What the handlers use, built once by the app factory."""

    handle: HandleInbound
    history: WebHistory
    hub: WebSocketHub
    session_ids: SessionIds
    responses: Responses
    max_message_chars: int
    per_session: RateLimiter
    per_address: RateLimiter
    shared: SharedState
    health: WorkerHealth
    openapi: dict[str, Any]
    clients: ClientAddresses = field(default_factory=ClientAddresses)
    # Origins besides the server's own whose pages may open the websocket.
    allowed_origins: frozenset[str] = frozenset()
    trusted_proxies: frozenset[str] = frozenset()


SERVICES_KEY = web.AppKey("web_services", WebServices)
routes = RouteTable()


def _json(model: BaseModel, status: int = 200) -> web.Response:
    return web.json_response(model.model_dump(mode="json"), status=status)


def origin_allowed(origin: str, request: web.Request, allowed: frozenset[str]) -> bool:
    """True when a page from ``origin`` may open the websocket: the origin this request was addressed to
    (the server's own pages) or one of ``allowed``. A browser always sends Origin on a websocket; a
    client without one is not a page another site could have opened."""
    given = origin.strip().rstrip("/").lower()
    return given in allowed or given == f"{request.scheme}://{request.host}".lower()


def client_address(request: web.Request, trusted_proxies: frozenset[str]) -> str:
    """The client's address: the peer's, or, when the peer is a trusted load balancer, the address it
    appended to X-Forwarded-For (the last one; earlier ones are the client's own claims)."""
    peer = request.remote or "-"
    if peer in trusted_proxies:
        forwarded = request.headers.get("X-Forwarded-For", "").split(",")[-1].strip()
        if forwarded:
            return forwarded
    return peer


async def _limit_address(services: WebServices, request: web.Request) -> None:
    wait = await services.per_address.hit(services.clients.of(request))
    if wait:
        raise RateLimited(limit=services.per_address.limit, retry_after=wait)


async def _limit_session(services: WebServices, session_id: str) -> None:
    wait = await services.per_session.hit(session_id)
    if wait:
        raise RateLimited(limit=services.per_session.limit, retry_after=wait)


async def _read_json(request: web.Request) -> dict[str, Any]:
    try:
        payload = await read_json(request)
    except InvalidJsonBody as exc:
        raise InvalidJson() from exc
    if not isinstance(payload, dict):
        raise InvalidJson()
    return payload


def _problems(exc: ValidationError) -> list[str]:
    return [f"{'.'.join(str(p) for p in error['loc']) or 'body'}: {error['msg']}" for error in exc.errors()]


@routes.get("/healthz", HEALTH)
async def health_handler(request: web.Request) -> web.Response:
    """Liveness: the process serves HTTP; the database and Redis are reported (200 either way)."""
    report = await request.app[SERVICES_KEY].health.report()
    status = "ok" if report.healthy else "degraded"
    return _json(Health(status=status, database=report.database.value, redis=report.redis.value))


@routes.get("/readyz", READY)
async def readiness_handler(request: web.Request) -> web.Response:
    """Readiness: 200 when this worker may take traffic (ready, or degraded: Redis down, still serving),
    else 503 (a load balancer sends it none)."""
    report = await request.app[SERVICES_KEY].health.report()
    body = Readiness(ready=report.ready, status=report.readiness.value)
    return _json(body, status=200 if report.ready else 503)


@routes.get("/api/openapi.json", {})  # the document itself: not in it
async def openapi_handler(request: web.Request) -> web.Response:
    """The OpenAPI 3.1 document of this API."""
    return web.json_response(request.app[SERVICES_KEY].openapi)


@routes.post("/api/sessions", CREATE_SESSION)
async def create_session_handler(request: web.Request) -> web.Response:
    """Issue a new session id."""
    services = request.app[SERVICES_KEY]
    await _limit_address(services, request)
    session = SessionCreated(
        session_id=services.session_ids.issue(), max_message_chars=services.max_message_chars
    )
    return _json(session, status=201)


@routes.post("/api/chat", CHAT)
async def chat_handler(request: web.Request) -> web.Response:
    """Pass one message to the conversation and answer with its replies."""
    services = request.app[SERVICES_KEY]
    await _limit_address(services, request)
    payload = await _read_json(request)
    try:
        chat = ChatRequest.model_validate(payload)
    except ValidationError as exc:
        raise InvalidRequest(problems=_problems(exc)) from exc
    session_id = services.session_ids.check(chat.session_id)
    await _limit_session(services, session_id)
    if len(chat.text) > services.max_message_chars:
        raise MessageTooLong(limit=services.max_message_chars, length=len(chat.text))
    inbound = InboundMessage(
        channel=ChannelName.WEB,
        sender_id=session_id,
        text=chat.text,
        message_id=f"{session_id}/{chat.message_id}" if chat.message_id else None,
        payload=chat.payload,
        lang=chat.lang.value if chat.lang else None,
    )
    result = await services.handle(inbound)  # the turn itself waits for an earlier one of this session
    quick = next((r.quick_replies for r in reversed(result.replies) if r.quick_replies), ())
    reference = next((r.ticket_reference for r in result.replies if r.ticket_reference), None)
    return _json(
        ChatResponse(
            replies=[reply.text for reply in result.replies],
            quick_replies=[QuickReplyChoice(payload=q.payload, label=q.label) for q in quick],
            lang=result.lang,
            ticket_reference=reference,
            duplicate=result.duplicate,
            quotes=[quote_of(reply.meta) for reply in result.replies],
        )
    )


@routes.get("/api/sessions/{session_id}/messages", HISTORY)
async def history_handler(request: web.Request) -> web.Response:
    """The session's stored messages, oldest first."""
    services = request.app[SERVICES_KEY]
    await _limit_address(services, request)
    session_id = services.session_ids.check(request.match_info["session_id"])
    stored = await services.history.messages(session_id)
    return _json(
        HistoryResponse(
            session_id=session_id,
            messages=[
                HistoryMessage(
                    author=m.author, text=m.text, at=m.at, ticket_reference=m.ticket_reference, quote=m.quote
                )
                for m in stored
            ],
        )
    )


@routes.get("/api/sessions/{session_id}/ws", PUSH)
async def websocket_handler(request: web.Request) -> web.WebSocketResponse:
    """Keep a page's websocket open; messages delivered later to its session are pushed on it."""
    services = request.app[SERVICES_KEY]
    await _limit_address(services, request)
    session_id = services.session_ids.check(request.match_info["session_id"])
    origin = request.headers.get("Origin")
    if origin is not None and not origin_allowed(origin, request, services.allowed_origins):
        raise ForbiddenOrigin()
    socket = web.WebSocketResponse(heartbeat=30.0)
    await socket.prepare(request)
    await services.hub.page_opened(session_id, socket)
    try:
        await services.hub.returned(session_id)
        async for message in socket:  # the page sends nothing we act on; reading keeps the socket alive
            if message.type is WSMsgType.ERROR:
                break
    finally:
        await services.hub.page_closed(session_id, socket)
    return socket


def build_openapi(*, version: str, server_url: str | None = None) -> dict[str, Any]:
    """The web chat API's document: every documented route of the table, with its payload schemas."""
    return openapi_document(version=version, paths=routes.paths(), server_url=server_url)
