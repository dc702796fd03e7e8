"""The JSON API's payloads, as pydantic models: requests are validated with them and the OpenAPI document is
built from them (bot/channels/web/openapi.py), so each shape is written once."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from bot.domain.language import Language

SESSION_ID_PATTERN = r"^[A-Za-z0-9_-]{32}\.[A-Za-z0-9_-]{22}$"
MESSAGE_ID_MAX = 100


class ErrorCode(StrEnum):
    """Why a request was refused; the widget may act on it (e.g. start a new session on unknown_session)."""

    INVALID_JSON = "invalid_json"
    INVALID_REQUEST = "invalid_request"
    MALFORMED_SESSION = "malformed_session"
    UNKNOWN_SESSION = "unknown_session"
    MESSAGE_TOO_LONG = "message_too_long"
    BODY_TOO_LARGE = "body_too_large"
    RATE_LIMITED = "rate_limited"
    FORBIDDEN_ORIGIN = "forbidden_origin"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    SERVICE_UNAVAILABLE = "service_unavailable"


class Author(StrEnum):
    """Who wrote a message in a session's history."""

    PERSON = "person"
    ASSISTANT = "assistant"
    OFFICER = "officer"


class PolicyQuote(BaseModel):
    """The passage of the privacy policy a reply quotes (the reply's text holds it too)."""

    section: str = Field(description="The policy section the passage is from.")
    text: str = Field(description="The quoted passage.")


class QuickReplyChoice(BaseModel):
    """A choice to offer as a button: show ``label``; when it is tapped, send ``label`` as the text and
    ``payload`` as the payload."""

    payload: str = Field(description="What the choice means: an intent or action id, e.g. request_erasure.")
    label: str = Field(description="What the button says, in the conversation's language.")


class ChatRequest(BaseModel):
    """A message a person typed. ``message_id`` (chosen by the client, unique per session) makes a retry
    after a lost response safe: a repeated id gets ``duplicate: true`` and the replies of the first turn.
    ``payload`` is set when the person tapped a quick reply; ``lang`` when they chose a language (the
    widget's switch): the conversation is then held in it, replies included."""

    model_config = ConfigDict(extra="ignore")

    session_id: str = Field(description="The id returned by POST /api/sessions.")
    text: str = Field(description="What the person typed.")
    message_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=MESSAGE_ID_MAX,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="Optional idempotency key, unique within the session.",
    )
    payload: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        pattern=r"^[a-z_]+$",
        description="The payload of the quick reply the person tapped (text is then its label).",
    )
    lang: Language | None = Field(
        default=None,
        description="The language the person chose; the conversation is held in it from now on.",
    )


class ChatResponse(BaseModel):
    """The assistant's answer to one message."""

    replies: list[str] = Field(description="The replies, as plain text, in order.")
    lang: Language = Field(
        default=Language.EN, description="The language of the replies (the conversation's)."
    )
    quick_replies: list[QuickReplyChoice] = Field(
        default_factory=list,
        description="Choices to offer as buttons (tapping one sends its label and payload).",
    )
    ticket_reference: str | None = Field(default=None, description="Set when a ticket opened or was named.")
    duplicate: bool = Field(
        default=False, description="The message_id was handled before; the replies are those of that turn."
    )
    quotes: list[PolicyQuote | None] = Field(
        default_factory=list, description="For each reply, in order, the policy passage it quotes, or null."
    )


class SessionCreated(BaseModel):
    """A new chat session; the browser keeps the id and sends it with every message."""

    session_id: str = Field(pattern=SESSION_ID_PATTERN)
    max_message_chars: int = Field(description="The longest message text the chat accepts, in characters.")


class HistoryMessage(BaseModel):
    """One stored message of a session."""

    author: Author
    text: str
    at: datetime
    ticket_reference: str | None = None
    quote: PolicyQuote | None = None


class HistoryResponse(BaseModel):
    """A session's conversation so far, oldest first."""

    session_id: str
    messages: list[HistoryMessage]


class PushedMessage(BaseModel):
    """What the websocket sends when a message arrives later (an officer's reply)."""

    type: str = Field(default="message", description='Always "message".')
    author: Author = Author.ASSISTANT
    at: datetime
    text: str
    quick_replies: list[QuickReplyChoice] = Field(default_factory=list)
    ticket_reference: str | None = None


class ErrorBody(BaseModel):
    """Why a request failed: a code to act on and a sentence to show."""

    code: ErrorCode
    message: str


class ErrorResponse(BaseModel):
    """Every 4xx answer of the API."""

    error: ErrorBody


class Health(BaseModel):
    """The liveness answer: ``status`` is "ok" or "degraded" (a dependency does not answer); ``database``
    and ``redis`` are "ok", "unreachable" or "not_configured"."""

    status: str = "ok"
    database: str = "not_configured"
    redis: str = "not_configured"


class Readiness(BaseModel):
    """Whether this worker may take traffic now (200: ``status`` "ready", or "degraded" while Redis is down
    and it still serves) or not (503: "not_ready": starting, stopping or its database cut off)."""

    ready: bool
    status: str = "ready"
