"""Frozen views of tickets for the desk, the officer and the command line (never ORM objects)."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.domain.channels import ChannelName
from bot.domain.tickets import (
    IdentityMethod,
    IdentityStatus,
    Priority,
    RequestKind,
    TicketStatus,
    TicketSummary,
)
from bot.messages import ATTACHMENTS_META, AUTHOR_META, OFFICER_AUTHOR, POLICY_VERSION_META
from bot.store.models import Message, MessageDirection, Ticket, TicketEvent, TicketEventKind


@dataclass(frozen=True)
class TicketView:
    """Everything the officer sees about a ticket."""

    reference: str
    kind: RequestKind
    status: TicketStatus
    priority: Priority
    channel: ChannelName
    requester_sender_id: str
    requester_address: str | None
    conversation_id: str | None
    identity_status: IdentityStatus
    identity_method: IdentityMethod
    account_known: bool
    language: str
    created_at: datetime
    first_response_due: datetime
    first_response_at: datetime | None
    due_at: datetime
    extended_until: datetime | None
    extension_months: int
    extension_reason: str | None
    assignee: str | None
    closed_at: datetime | None
    thread_meta: dict[str, Any] | None

    @property
    def requester_label(self) -> str:
        """A short opaque label for the person (``P-7K3Q9M``): stable per conversation, never the channel's
        sender id (a web session id is the key to that person's chat history)."""
        return requester_label(self.conversation_id or self.reference)

    @property
    def next_deadline(self) -> datetime:
        """The first response while none was given, else the (extended) resolution due."""
        if self.first_response_at is None:
            return self.first_response_due
        return self.extended_until or self.due_at

    def summary(self, *, already_open: bool = False) -> TicketSummary:
        """What the requester may be told."""
        return TicketSummary(
            reference=self.reference,
            kind=self.kind,
            status=self.status,
            priority=self.priority,
            identity_status=self.identity_status,
            created_at=self.created_at,
            first_response_due=self.first_response_due,
            due_at=self.due_at,
            account_known=self.account_known,
            already_open=already_open,
            extended_until=self.extended_until,
        )


@dataclass(frozen=True)
class AuditEntry:
    """One line of the audit trail."""

    at: datetime
    actor: str
    event: TicketEventKind
    detail: dict[str, Any]


class Author(StrEnum):
    """Who wrote a line of the transcript."""

    PERSON = "person"
    ASSISTANT = "assistant"
    OFFICER = "officer"


@dataclass(frozen=True)
class TranscriptLine:
    """One message of the conversation behind a ticket."""

    at: datetime
    direction: MessageDirection
    channel: ChannelName
    text: str
    attachments: str | None = None
    author: Author = Author.ASSISTANT
    # The policy version an assistant's answer quoted (``privacybot policy versions``).
    policy_version: str | None = None


@dataclass(frozen=True)
class TicketDetail:
    """A ticket with its audit trail and its conversation's transcript."""

    ticket: TicketView
    audit: tuple[AuditEntry, ...]
    transcript: tuple[TranscriptLine, ...]


@dataclass(frozen=True)
class DeadlineExtension:
    """An extension just recorded; the officer workspace tells the requester (channel and thread included)."""

    ticket: TicketView
    previous_due: datetime
    extended_until: datetime
    months: int
    reason: str


def requester_label(seed: str) -> str:
    """``P-`` and six base-32 characters of a hash of ``seed`` (a random conversation id: not reversible)."""
    digest = hashlib.sha256(f"requester:{seed}".encode()).digest()
    return "P-" + base64.b32encode(digest).decode()[:6]


def view_of(ticket: Ticket) -> TicketView:
    """The view of an ORM ticket."""
    return TicketView(
        reference=ticket.reference,
        kind=ticket.kind,
        status=ticket.status,
        priority=ticket.priority,
        channel=ticket.channel,
        requester_sender_id=ticket.requester_sender_id,
        requester_address=ticket.requester_address,
        conversation_id=ticket.conversation_id,
        identity_status=ticket.identity_status,
        identity_method=ticket.identity_method,
        account_known=ticket.account_id is not None,
        language=ticket.language,
        created_at=ticket.created_at,
        first_response_due=ticket.first_response_due,
        first_response_at=ticket.first_response_at,
        due_at=ticket.due_at,
        extended_until=ticket.extended_until,
        extension_months=ticket.extension_months,
        extension_reason=ticket.extension_reason,
        assignee=ticket.assignee,
        closed_at=ticket.closed_at,
        thread_meta=dict(ticket.thread_meta) if ticket.thread_meta else None,
    )


def audit_entry(event: TicketEvent) -> AuditEntry:
    """The view of one audit row."""
    return AuditEntry(event.at, event.actor, event.event, dict(event.detail))


def transcript_line(message: Message) -> TranscriptLine:
    """The view of one stored message."""
    meta = message.meta or {}
    if message.direction is MessageDirection.INBOUND:
        author = Author.PERSON
    else:
        author = Author.OFFICER if meta.get(AUTHOR_META) == OFFICER_AUTHOR else Author.ASSISTANT
    attachments = meta.get(ATTACHMENTS_META)
    version = meta.get(POLICY_VERSION_META) if author is Author.ASSISTANT else None
    return TranscriptLine(
        message.at, message.direction, message.channel, message.text, attachments, author, version
    )
