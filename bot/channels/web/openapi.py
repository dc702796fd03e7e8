"""The OpenAPI 3.1 document of the web chat API, built from the pydantic models in bot/channels/web/api.py."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from bot.channels.web.api import (
    ChatRequest,
    ChatResponse,
    ErrorResponse,
    Health,
    HistoryResponse,
    PushedMessage,
    Readiness,
    SessionCreated,
)
from bot.http.openapi import component_schemas, json_answer, json_content

_MODELS: tuple[type[BaseModel], ...] = (
    ChatRequest,
    ChatResponse,
    SessionCreated,
    HistoryResponse,
    PushedMessage,
    ErrorResponse,
    Health,
    Readiness,
)
_SESSION_PARAMETER = {
    "name": "session_id",
    "in": "path",
    "required": True,
    "description": "The id returned by POST /api/sessions.",
    "schema": {"type": "string"},
}


def _error(description: str) -> dict[str, Any]:
    return json_answer(description, ErrorResponse)


_LIMITED = _error("Too many messages from this session or address; see Retry-After.")
_UNAVAILABLE = _error("The database is unreachable for a moment; send the same message after Retry-After.")
HEALTH: dict[str, Any] = {
    "operationId": "health",
    "summary": "Liveness check",
    "responses": {"200": json_answer("The server is up; its database and Redis.", Health)},
}
READY: dict[str, Any] = {
    "operationId": "readiness",
    "summary": "Readiness check (may this worker take traffic)",
    "responses": {
        "200": json_answer("The worker takes traffic.", Readiness),
        "503": json_answer("The worker is starting, stopping or cut off.", Readiness),
    },
}
CREATE_SESSION: dict[str, Any] = {
    "operationId": "createSession",
    "summary": "Start a chat session",
    "responses": {
        "201": json_answer("The new session.", SessionCreated),
        "429": _LIMITED,
        "503": _UNAVAILABLE,
    },
}
CHAT: dict[str, Any] = {
    "operationId": "chat",
    "summary": "Send a message and read the assistant's replies",
    "description": (
        "Replies come in the conversation's language (`lang` of the answer): the language of the person's "
        "messages, or the one set by the optional `lang` field (en, az, ru; the widget's language switch), "
        "kept for later turns. A tapped quick reply is sent as its `label` in `text` and its `payload` in "
        "`payload`."
    ),
    "requestBody": {"required": True, "content": json_content(ChatRequest)},
    "responses": {
        "200": json_answer("The replies.", ChatResponse),
        "400": _error("Invalid JSON, missing fields or a malformed session id."),
        "404": _error("The session id was not issued by this server."),
        "413": _error("The message is longer than the limit."),
        "429": _LIMITED,
        "503": _UNAVAILABLE,
    },
}
HISTORY: dict[str, Any] = {
    "operationId": "history",
    "summary": "Read a session's messages back, oldest first",
    "parameters": [_SESSION_PARAMETER],
    "responses": {
        "200": json_answer("The history.", HistoryResponse),
        "400": _error("Malformed session id."),
        "404": _error("Unknown session id."),
        "429": _LIMITED,
        "503": _UNAVAILABLE,
    },
}
PUSH: dict[str, Any] = {
    "operationId": "push",
    "summary": "Websocket pushing messages that arrive later",
    "parameters": [_SESSION_PARAMETER],
    "responses": {
        "101": {
            "description": "Switching to the websocket; each frame is a PushedMessage.",
            "content": json_content(PushedMessage),
        },
        "400": _error("Malformed session id."),
        "404": _error("Unknown session id."),
    },
}


def openapi_document(*, version: str, paths: dict[str, Any], server_url: str | None = None) -> dict[str, Any]:
    """The document: ``paths`` (from the route table in handlers.py), the payload schemas under components."""
    components = component_schemas(_MODELS)
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "ZynorLink privacy assistant: web chat API", "version": version},
        "paths": paths,
        "components": {"schemas": components},
    }
    if server_url:
        document["servers"] = [{"url": server_url}]
    return document
