"""The seam between actions and the ticket store: what a rights request needs, as a Protocol.

`bot/tickets` implements it over the database; actions only see these values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from bot.messages import ChannelName
from nlu.intents import RequestKind


class TicketKind(StrEnum):
    """Every kind of ticket: the request kinds plus a question for the officer and a live handoff."""

    ACCESS = "access"
    RECTIFICATION = "rectification"
    ERASURE = "erasure"
    PORTABILITY = "portability"
    RESTRICTION = "restriction"
    OBJECTION = "objection"
    MARKETING_OPT_OUT = "marketing_opt_out"
    SECURITY_INCIDENT = "security_incident"
    POLICY_ARCHIVE = "policy_archive"
    QUESTION = "question"
    HANDOFF = "handoff"

    @classmethod
    def of_request(cls, kind: RequestKind) -> TicketKind:
        """The ticket kind for a request kind."""
        return cls(kind.value)


class TicketStatus(StrEnum):
    """Where a ticket stands."""

    NEW = "new"
    AWAITING_VERIFICATION = "awaiting_verification"
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    WAITING_ON_REQUESTER = "waiting_on_requester"
    RESOLVED = "resolved"
    REJECTED = "rejected"

    @property
    def is_closed(self) -> bool:
        """True once nothing more will happen on the ticket."""
        return self in (TicketStatus.RESOLVED, TicketStatus.REJECTED)


class Priority(StrEnum):
    """How soon the officer should look."""

    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class IdentityStatus(StrEnum):
    """Whether the requester proved who they are."""

    NOT_REQUIRED = "not_required"
    UNVERIFIED = "unverified"
    VERIFIED = "verified"


class IdentityMethod(StrEnum):
    """How the identity was proved."""

    NONE = "none"
    EMAIL_CODE = "email_code"
    EMAIL_DMARC = "email_dmarc"


class CodeResult(StrEnum):
    """The outcome of checking a one-time code."""

    ACCEPTED = "accepted"
    WRONG = "wrong"
    EXPIRED = "expired"
    LOCKED = "locked"
    COOLING_OFF = "cooling_off"
    MISSING = "missing"


@dataclass(frozen=True)
class Requester:
    """The person behind a conversation, as the desk knows them."""

    channel: ChannelName
    sender_id: str
    conversation_id: str
    language: str = "en"


@dataclass(frozen=True)
class CodeSent:
    """A one-time code went out."""

    address: str
    expires_at: datetime


@dataclass(frozen=True)
class CodeCheck:
    """The result of checking a code; ``address`` is the verified address when accepted;
    ``retry_after_seconds`` is how long a cooling-off lasts."""

    result: CodeResult
    attempts_left: int
    address: str | None = None
    retry_after_seconds: int = 0


@dataclass(frozen=True)
class TicketSummary:
    """What a person may be told about their ticket."""

    reference: str
    kind: TicketKind
    status: TicketStatus
    priority: Priority
    identity_status: IdentityStatus
    created_at: datetime
    first_response_due: datetime
    due_at: datetime
    account_known: bool = False
    already_open: bool = False
    extended_until: datetime | None = None


class DeskError(Exception):
    """Base for errors the desk raises that the conversation turns into a reply."""


class ResendTooSoon(DeskError):
    """A new code was asked for before the rate limit allows."""

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(f"retry after {retry_after_seconds} s")
        self.retry_after_seconds = retry_after_seconds


class CodeCoolingOff(DeskError):
    """Too many wrong codes for this address or conversation lately: no code for a while."""

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(f"cooling off for {retry_after_seconds} s")
        self.retry_after_seconds = retry_after_seconds


class CodeDeliveryFailed(DeskError):
    """The mail with the code could not be sent."""


class RequestDesk(Protocol):
    """Tickets and identity verification, as the actions use them. One instance serves one turn."""

    async def send_code(self, requester: Requester, address: str) -> CodeSent:
        """Mail a fresh 6-digit code to ``address``. Raises ResendTooSoon, CodeCoolingOff,
        CodeDeliveryFailed."""
        ...

    async def check_code(self, requester: Requester, code: str) -> CodeCheck:
        """Check the code the person typed against the last one sent in this conversation."""
        ...

    async def open_request(
        self,
        requester: Requester,
        kind: TicketKind,
        *,
        address: str | None,
        identity: IdentityStatus,
        method: IdentityMethod,
        priority: Priority = Priority.NORMAL,
    ) -> TicketSummary:
        """Open a ticket, or return the open one of the same kind for the same verified person
        (``already_open=True``)."""
        ...

    async def attach_verification(
        self, requester: Requester, reference: str, *, address: str, method: IdentityMethod
    ) -> TicketSummary | None:
        """Record that the requester of an already open ticket proved their identity."""
        ...

    async def ticket_status(self, requester: Requester, reference: str) -> TicketSummary | None:
        """The ticket if ``requester`` owns it (same conversation, or the same verified address)."""
        ...

    async def tickets_of(self, requester: Requester) -> list[TicketSummary]:
        """The requester's tickets, newest first."""
        ...

    async def relay_to_officer(self, requester: Requester, reference: str, text: str) -> None:
        """During a live handoff, pass the person's message to the officer."""
        ...
