"""The tables, as SQLAlchemy 2 typed models. The schema itself changes only through Alembic migrations."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, Dialect, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy import Enum as SqlEnum
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from bot.domain.channels import ChannelName
from bot.domain.tickets import IdentityMethod, IdentityStatus, Priority, RequestKind, TicketStatus


class UtcDateTime(TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` that accepts only aware datetimes and always returns aware UTC.

    SQLite keeps no zone, so values are stored as UTC and given ``tzinfo=UTC`` back on load.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Reject naive datetimes; store UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Aware UTC out, whatever the backend returned."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JsonDocument = JSON().with_variant(JSONB(), "postgresql")


def str_enum(enum: type[StrEnum], length: int = 32) -> SqlEnum:
    """A StrEnum stored by value in a VARCHAR (no native type, so adding a member needs no migration)."""
    return SqlEnum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
    )


class MessageDirection(StrEnum):
    """Which way a stored message went."""

    INBOUND = "in"
    OUTBOUND = "out"


class TicketEventKind(StrEnum):
    """What happened on a ticket (the audit trail's ``event`` column)."""

    OPENED = "opened"
    DUPLICATE_REQUEST = "duplicate_request"
    VERIFIED = "verified"
    STATUS_CHANGED = "status_changed"
    ASSIGNED = "assigned"
    OFFICER_REPLIED = "officer_replied"
    FIRST_RESPONSE = "first_response"
    DEADLINE_EXTENDED = "deadline_extended"
    REQUESTER_MESSAGE = "requester_message"
    SLA_REMINDER = "sla_reminder"
    SLA_BREACH = "sla_breach"
    MARKETING_OPTED_OUT = "marketing_opted_out"


class Base(DeclarativeBase):
    """The declarative base of every table."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime, dict[str, Any]: JsonDocument}


class Conversation(Base):
    """One person on one channel, and where the dialogue stands (so a restart loses nothing)."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("channel", "sender_id", name="uq_conversations_channel_sender"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    channel: Mapped[ChannelName] = mapped_column(str_enum(ChannelName, 16))
    sender_id: Mapped[str] = mapped_column(String(320))
    state: Mapped[dict[str, Any]]
    thread_meta: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Message(Base):
    """A message in either direction; a redelivered inbound message hits the per-channel unique id."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("channel", "channel_message_id", name="uq_messages_channel_message_id"),
        Index("ix_messages_conversation_at", "conversation_id", "at"),
        Index("ix_messages_in_reply_to", "channel", "in_reply_to"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    direction: Mapped[MessageDirection] = mapped_column(str_enum(MessageDirection, 8))
    channel: Mapped[ChannelName] = mapped_column(str_enum(ChannelName, 16))
    channel_message_id: Mapped[str | None] = mapped_column(String(512))
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]
    ticket_reference: Mapped[str | None] = mapped_column(String(20))
    meta: Mapped[dict[str, Any] | None]
    # A reply of a turn: the channel message id of the inbound message it answered (a retry gets them back).
    in_reply_to: Mapped[str | None] = mapped_column(String(512))


class Account(Base):
    """The accounts directory imported from CSV: who holds an account at which address."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    account_id: Mapped[str | None] = mapped_column(String(100))
    imported_at: Mapped[datetime]
    # Set when the holder's verified marketing opt-out was carried out; a re-import leaves it alone.
    marketing_opt_out_at: Mapped[datetime | None]


OPEN_TICKET_INDEX = "uq_tickets_open_per_requester"
OPEN_TICKET_WHERE = text(
    "status IN (" + ", ".join(f"'{status.value}'" for status in TicketStatus if not status.is_closed) + ")"
)


def requester_key(*, address: str | None, conversation_id: str | None, reference: str) -> str:
    """The requester a ticket belongs to for the one-open-ticket rule: the verified address, else the
    conversation (else the ticket itself, which then collides with nothing)."""
    if address:
        return f"address:{address}"
    return f"conversation:{conversation_id}" if conversation_id else f"ticket:{reference}"


class Ticket(Base):
    """A rights request, question or handoff, with its SLA clock."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_status_first_response", "status", "first_response_at", "first_response_due"),
        Index("ix_tickets_sla_check_at", "sla_check_at"),
        Index("ix_tickets_address_kind", "requester_address", "kind"),
        Index("ix_tickets_conversation", "conversation_id"),
        Index("ix_tickets_sender", "channel", "requester_sender_id"),
        # One open ticket per requester and kind, whatever races: the database refuses a second.
        Index(
            OPEN_TICKET_INDEX,
            "kind",
            "requester_key",
            unique=True,
            sqlite_where=OPEN_TICKET_WHERE,
            postgresql_where=OPEN_TICKET_WHERE,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    kind: Mapped[RequestKind] = mapped_column(str_enum(RequestKind))
    status: Mapped[TicketStatus] = mapped_column(str_enum(TicketStatus))
    priority: Mapped[Priority] = mapped_column(str_enum(Priority, 16))
    channel: Mapped[ChannelName] = mapped_column(str_enum(ChannelName, 16))
    requester_sender_id: Mapped[str] = mapped_column(String(320))
    requester_address: Mapped[str | None] = mapped_column(String(320))
    conversation_id: Mapped[str | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"))
    identity_status: Mapped[IdentityStatus] = mapped_column(str_enum(IdentityStatus, 16))
    identity_method: Mapped[IdentityMethod] = mapped_column(str_enum(IdentityMethod, 16))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    language: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    first_response_due: Mapped[datetime]
    first_response_at: Mapped[datetime | None]
    due_at: Mapped[datetime]
    extended_until: Mapped[datetime | None]
    extension_months: Mapped[int] = mapped_column(default=0)
    extension_reason: Mapped[str | None] = mapped_column(Text)
    assignee: Mapped[str | None] = mapped_column(String(200))
    closed_at: Mapped[datetime | None]
    thread_meta: Mapped[dict[str, Any] | None]
    # When the sweeper next has something to do for this ticket; NULL once nothing is pending.
    sla_check_at: Mapped[datetime | None]
    # Who asked, for the one-open-ticket rule: ``address:<verified address>`` or ``conversation:<id>``.
    requester_key: Mapped[str | None] = mapped_column(String(340))


class TicketEvent(Base):
    """The append-only audit trail: who did what to a ticket, when (a trigger refuses UPDATE and DELETE)."""

    __tablename__ = "ticket_events"
    __table_args__ = (Index("ix_ticket_events_ticket", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(200))
    event: Mapped[TicketEventKind] = mapped_column(str_enum(TicketEventKind))
    detail: Mapped[dict[str, Any]]


class RetentionRun(Base):
    """The audit entry of one retention purge: when, under which policy periods, and what it removed."""

    __tablename__ = "retention_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(200))
    periods: Mapped[dict[str, Any]]
    removed: Mapped[dict[str, Any]]


class VerificationCode(Base):
    """A one-time code sent to an address: only its scrypt hash and salt are kept."""

    __tablename__ = "verification_codes"
    __table_args__ = (
        Index("ix_verification_codes_conversation", "conversation_id", "sent_at"),
        Index("ix_verification_codes_address", "address", "sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    address: Mapped[str] = mapped_column(String(320))
    code_hash: Mapped[str] = mapped_column(String(128))
    salt: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    verified_at: Mapped[datetime | None]


class SlaNotification(Base):
    """A reminder or escalation claimed for a ticket; the unique pair makes each one happen once.

    A row is inserted (claimed) before the notification goes out; ``sent_at`` is set after it did.
    ``lease_until`` keeps other sweepers off a row being sent, and makes a failed send due again later.
    """

    __tablename__ = "sla_notifications"
    __table_args__ = (
        UniqueConstraint("ticket_id", "kind", name="uq_sla_notifications_ticket_kind"),
        Index("ix_sla_notifications_pending", "sent_at", "lease_until"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[datetime]
    created_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(200))
    sent_at: Mapped[datetime | None]


class Lease(Base):
    """Who runs a singleton (IMAP polling, Telegram long polling) until when: the holder renews it; once it
    expired, another worker may take it."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime]
