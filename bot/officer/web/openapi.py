"""The officer API's part of the OpenAPI document at ``/api/openapi.json``: each route's operation (the route
table in bot/officer/web/api.py pairs it with the handler), its schemas (from the
pydantic models in bot/officer/web/schemas.py) and the bearer-token security scheme, merged into the web
channel's document by the wiring point."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from bot.http.openapi import component_schemas, json_answer, json_content
from bot.officer.web.schemas import (
    AssignmentRequest,
    ExtensionRequest,
    OfficerErrorResponse,
    ReplyRequest,
    ReplyResult,
    StatusRequest,
    TicketDetailOut,
    TicketList,
    TicketResult,
)

PREFIX = "/api/officer"
_MODELS: tuple[type[BaseModel], ...] = (
    TicketList,
    TicketDetailOut,
    ReplyRequest,
    ReplyResult,
    StatusRequest,
    ExtensionRequest,
    AssignmentRequest,
    TicketResult,
    OfficerErrorResponse,
)
_SECURITY: list[dict[str, list[str]]] = [{"officerToken": []}]
_REFERENCE = {
    "name": "reference",
    "in": "path",
    "required": True,
    "description": "PRV-XXXX-XXXX",
    "schema": {"type": "string"},
}
_FILTERS = [
    {
        "name": name,
        "in": "query",
        "required": False,
        "description": f"Only tickets of this {name} (repeatable).",
        "schema": {"type": "array", "items": {"type": "string"}},
        "style": "form",
        "explode": True,
    }
    for name in ("kind", "status", "channel")
]


def _errors(*statuses: str) -> dict[str, Any]:
    texts = {
        "400": "Invalid body or value.",
        "401": "Missing or invalid token.",
        "404": "No such ticket.",
        "409": "The ticket does not allow this (closed, extension used up).",
    }
    return {status: json_answer(texts[status], OfficerErrorResponse) for status in ("401", *statuses)}


def _operation(
    operation_id: str,
    summary: str,
    ok: tuple[str, str, type[BaseModel]],
    body: type[BaseModel] | None = None,
    errors: tuple[str, ...] = ("404",),
    parameters: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    status, description, model = ok
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "tags": ["officer"],
        "security": _SECURITY,
        "parameters": parameters if parameters is not None else [_REFERENCE],
        "responses": {status: json_answer(description, model), **_errors(*errors)},
    }
    if body is not None:
        operation["requestBody"] = {"required": True, "content": json_content(body)}
    return operation


_CHANGED = ("200", "The ticket after the change.", TicketResult)
LIST_TICKETS = _operation(
    "officerListTickets",
    "The queue, least time left first",
    ("200", "The tickets.", TicketList),
    errors=("400",),
    parameters=_FILTERS,
)
EXPORT_TICKETS: dict[str, Any] = {
    "operationId": "officerExportTickets",
    "summary": "Tickets as CSV, for record keeping",
    "tags": ["officer"],
    "security": _SECURITY,
    "parameters": _FILTERS,
    "responses": {
        "200": {
            "description": "CSV with a header row.",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        **_errors("400"),
    },
}
GET_TICKET = _operation(
    "officerGetTicket",
    "A ticket with its audit trail and transcript",
    ("200", "The ticket.", TicketDetailOut),
)
REPLY = _operation(
    "officerReply",
    "Reply to the requester on the ticket's channel",
    ("201", "Recorded (and delivered unless `delivered` is false).", ReplyResult),
    ReplyRequest,
    errors=("400", "404"),
)
SET_STATUS = _operation(
    "officerSetStatus",
    "Change the status (a rejection needs a reason)",
    _CHANGED,
    StatusRequest,
    errors=("400", "404", "409"),
)
EXTEND = _operation(
    "officerExtend",
    "Extend the resolution deadline",
    _CHANGED,
    ExtensionRequest,
    errors=("400", "404", "409"),
)
ASSIGN = _operation("officerAssign", "Assign the ticket", _CHANGED, AssignmentRequest, errors=("400", "404"))
END_HANDOFF = _operation("officerEndHandoff", "End the live handoff", _CHANGED, errors=("400", "404"))


def add_officer_schemas(document: dict[str, Any], paths: dict[str, Any]) -> dict[str, Any]:
    """Merge the officer API's ``paths`` (from its route table), schemas and security scheme into
    ``document`` (the web channel's OpenAPI dict, changed in place)."""
    document.setdefault("paths", {}).update(paths)
    components = document.setdefault("components", {})
    components.setdefault("schemas", {}).update(component_schemas(_MODELS))
    components.setdefault("securitySchemes", {})["officerToken"] = {
        "type": "http",
        "scheme": "bearer",
        "description": "An officer API token from `privacybot officer token EMAIL`.",
    }
    return document
