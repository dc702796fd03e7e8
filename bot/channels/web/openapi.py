"""The OpenAPI 3.1 document of the web chat API, built from the pydantic models in bot/channels/web/api.py."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from bot.channels.web.api import (
    ChatRequest,
    ChatResponse,
    ErrorResponse,
    Health,
    HistoryResponse,
    PushedMessage,
    SessionCreated,
)

_REF = "#/components/schemas/{model}"
_MODELS: tuple[type[BaseModel], ...] = (
    ChatRequest,
    ChatResponse,
    SessionCreated,
    HistoryResponse,
    PushedMessage,
    ErrorResponse,
    Health,
)
_SESSION_PARAMETER = {
    "name": "session_id",
    "in": "path",
    "required": True,
    "description": "The id returned by POST /api/sessions.",
    "schema": {"type": "string"},
}


def json_content(model: type[BaseModel]) -> dict[str, Any]:
    """A JSON body of ``model``, by reference to its component schema."""
    return {"application/json": {"schema": {"$ref": _REF.format(model=model.__name__)}}}


def json_answer(description: str, model: type[BaseModel]) -> dict[str, Any]:
    """A response with a JSON body of ``model``."""
    return {"description": description, "content": json_content(model)}


def component_schemas(models: tuple[type[BaseModel], ...]) -> dict[str, Any]:
    """The component schemas of ``models`` (and of the models they use), keyed by name."""
    _, schemas = models_json_schema([(model, "validation") for model in models], ref_template=_REF)
    return dict(schemas.get("$defs", {}))


def _error(description: str) -> dict[str, Any]:
    return json_answer(description, ErrorResponse)


def build_openapi(*, version: str, server_url: str | None = None) -> dict[str, Any]:
    """The document: every path of the API, its payload schemas under components."""
    components = component_schemas(_MODELS)
    limited = _error("Too many messages from this session or address; see Retry-After.")
    paths: dict[str, Any] = {
        "/healthz": {
            "get": {
                "operationId": "health",
                "summary": "Liveness check",
                "responses": {"200": json_answer("The server is up.", Health)},
            }
        },
        "/api/sessions": {
            "post": {
                "operationId": "createSession",
                "summary": "Start a chat session",
                "responses": {"201": json_answer("The new session.", SessionCreated), "429": limited},
            }
        },
        "/api/chat": {
            "post": {
                "operationId": "chat",
                "summary": "Send a message and read the assistant's replies",
                "description": (
                    "Replies come in the conversation's language (`lang` of the answer): the language of "
                    "the person's messages, or the one set by the optional `lang` field (en, az, ru; the "
                    "widget's language switch), kept for later turns. A tapped quick reply is sent as its "
                    "`label` in `text` and its `payload` in `payload`."
                ),
                "requestBody": {"required": True, "content": json_content(ChatRequest)},
                "responses": {
                    "200": json_answer("The replies.", ChatResponse),
                    "400": _error("Invalid JSON, missing fields or a malformed session id."),
                    "404": _error("The session id was not issued by this server."),
                    "413": _error("The message is longer than the limit."),
                    "429": limited,
                },
            }
        },
        "/api/sessions/{session_id}/messages": {
            "get": {
                "operationId": "history",
                "summary": "Read a session's messages back, oldest first",
                "parameters": [_SESSION_PARAMETER],
                "responses": {
                    "200": json_answer("The history.", HistoryResponse),
                    "400": _error("Malformed session id."),
                    "404": _error("Unknown session id."),
                    "429": limited,
                },
            }
        },
        "/api/sessions/{session_id}/ws": {
            "get": {
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
        },
    }
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "ZynorLink privacy assistant: web chat API", "version": version},
        "paths": paths,
        "components": {"schemas": components},
    }
    if server_url:
        document["servers"] = [{"url": server_url}]
    return document
