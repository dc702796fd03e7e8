"""Tickets and identity, as every layer names them: kinds, statuses, the requester, the ticket summary,
and the `RequestDesk` protocol through which the actions reach tickets (`bot/tickets` implements it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from bot.domain.channels import ChannelName
from bot.domain.policy_versions import ArchiveMailResult, PolicyVersion


class RequestKind(StrEnum):
    """Every kind of ticket: the rights requests a person can make, a question for the officer and a live
    handoff. The names are a contract shared with other tools."""

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

    @property
    def is_rights_request(self) -> bool:
        """True for the rights requests (not a question for the officer or a handoff)."""
        return self not in (RequestKind.QUESTION, RequestKind.HANDOFF)


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


class HandoffReason(StrEnum):
    """Why the conversation went to the officer (the handoff reply says so)."""

    ASKED = "asked"
    NOT_COVERED = "not_covered"
    NOT_UNDERSTOOD = "not_understood"


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
    kind: RequestKind
    status: TicketStatus
    priority: Priority
    identity_status: IdentityStatus
    created_at: datetime
    first_response_due: datetime
    due_at: datetime
    account_known: bool = False
    already_open: bool = False
    extended_until: datetime | None = None


@dataclass(frozen=True)
class OfficerPresence:
    """Whether a privacy officer is at work now (acted on a ticket lately), and the promised reply time."""

    online: bool
    first_response_hours: int


class RequestDesk(Protocol):
    """Tickets and identity verification, as the actions use them. One instance serves one turn. The two
    methods at the end reach the archived versions of the policy."""

    async def send_code(self, requester: Requester, address: str, *, lang: str = "en") -> CodeSent:
        """Mail a fresh 6-digit code to ``address``, the mail written in ``lang`` (the conversation's), once
        the turn commits. Raises ResendTooSoon, CodeCoolingOff."""
        ...

    async def check_code(self, requester: Requester, code: str) -> CodeCheck:
        """Check the code the person typed against the last one sent in this conversation."""
        ...

    async def open_request(
        self,
        requester: Requester,
        kind: RequestKind,
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

    async def send_ticket_code(
        self, requester: Requester, reference: str, *, lang: str = "en"
    ) -> CodeSent | None:
        """Mail a code (written in ``lang``) to the verified address of ``reference`` (a ticket of another
        conversation or channel), so the person can prove it is theirs; None when it has no verified
        address. Raises ResendTooSoon, CodeCoolingOff."""
        ...

    async def officer_presence(self) -> OfficerPresence:
        """Whether an officer is online now, for the handoff's acknowledgement."""
        ...

    async def policy_versions(self) -> list[PolicyVersion]:
        """Every archived version of the policy, the oldest in effect first (the current one archived if it
        was not)."""
        ...

    async def mail_policy_version(
        self, requester: Requester, version_id: str, *, address: str, lang: str = "en"
    ) -> ArchiveMailResult:
        """Queue a mail with version ``version_id`` attached as text to ``address``, written in ``lang``; it
        goes out once the turn commits, through the delivery outbox."""
        ...
