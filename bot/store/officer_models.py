"""The officer workspace's tables, on the store's declarative base (Alembic revisions 0002 and 0003)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from bot.domain.channels import ChannelName
from bot.store.models import Base, JsonDocument, str_enum


class AlertKind(StrEnum):
    """What an officer alert is about."""

    NEW_TICKET = "new_ticket"
    REQUESTER_MESSAGE = "requester_message"
    SLA_REMINDER = "sla_reminder"
    SLA_BREACH = "sla_breach"


class DeliveryRoute(StrEnum):
    """Where a message for a person went: reached them on their channel, kept there for their next visit
    (a closed web page), or mailed to the ticket's verified address because the channel could not reach
    them within ``PRIVACYBOT_OFFLINE_DELIVERY_MINUTES``; or dropped unsent because it expired first (a
    one-time code mail that could not go out while the code was valid)."""

    CHANNEL = "channel"
    KEPT_FOR_NEXT_VISIT = "kept_for_next_visit"
    SEEN_ON_RETURN = "seen_on_return"
    EMAIL_FALLBACK = "email_fallback"
    EXPIRED = "expired"


class Officer(Base):
    """A person who may sign in to the workspace; only an argon2id hash of the password is kept."""

    __tablename__ = "officers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]


class OfficerSession(Base):
    """A signed-in browser: the cookie holds a random id, the table only its SHA-256."""

    __tablename__ = "officer_sessions"
    __table_args__ = (Index("ix_officer_sessions_expires", "expires_at"),)

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id", ondelete="CASCADE"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class OfficerApiToken(Base):
    """A token for the JSON API: shown once, stored as its SHA-256."""

    __tablename__ = "officer_api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class SignInAttempts(Base):
    """Recent failed sign-ins of one key (an account or a client address, stored as a SHA-256 only) and
    when the next try is allowed."""

    __tablename__ = "sign_in_throttle"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime]
    next_allowed_at: Mapped[datetime]


class PendingDelivery(Base):
    """One delivery to a person until its channel accepted it: the replies of a Telegram or email turn, an
    officer's reply, a status notice, a one-time code mail. ``text`` is what the person reads (the parts'
    texts together), for the officer's page and the email fallback; ``parts`` are the messages themselves.
    ``delivered_at`` is when the row left the queue (accepted by its channel, or dropped as EXPIRED)."""

    __tablename__ = "delivery_outbox"
    __table_args__ = (
        Index("ix_delivery_outbox_pending", "delivered_at", "next_attempt_at"),
        Index("ix_delivery_outbox_fallback", "fallback_at"),
        UniqueConstraint("dedup_key", name="uq_delivery_outbox_dedup_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_reference: Mapped[str | None] = mapped_column(String(20))
    channel: Mapped[ChannelName] = mapped_column(str_enum(ChannelName, 16))
    recipient_id: Mapped[str] = mapped_column(String(320))
    text: Mapped[str] = mapped_column(Text)
    meta: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(200))
    delivered_at: Mapped[datetime | None]
    route: Mapped[DeliveryRoute | None] = mapped_column(str_enum(DeliveryRoute))
    # When to mail the verified address if the channel has not reached the person by then (None: never).
    fallback_at: Mapped[datetime | None]
    fallback_sent_at: Mapped[datetime | None]
    # The messages in order (``bot.store.outbox.MessagePart``); None on rows queued before revision 0006,
    # which are the one message ``text`` and ``meta`` describe. ``parts_sent``: how many went out already.
    parts: Mapped[list[dict[str, Any]] | None] = mapped_column(JsonDocument)
    parts_sent: Mapped[int] = mapped_column(default=0, server_default="0")
    # Names the delivery: queuing the same key again is a no-op, and a mail sent again keeps its Message-ID.
    dedup_key: Mapped[str | None] = mapped_column(String(200))
    # A one-time code: its text is blanked once sent (or expired), and it is never sent after ``expires_at``.
    secret: Mapped[bool] = mapped_column(default=False, server_default=false())
    expires_at: Mapped[datetime | None]


class OfficerAlert(Base):
    """A notification for the officer, claimed once per audit event (new ticket, relayed message)."""

    __tablename__ = "officer_alerts"
    __table_args__ = (
        UniqueConstraint("ticket_event_id", name="uq_officer_alerts_event"),
        Index("ix_officer_alerts_pending", "sent_at", "lease_until"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_event_id: Mapped[int] = mapped_column(ForeignKey("ticket_events.id"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    kind: Mapped[AlertKind] = mapped_column(str_enum(AlertKind))
    created_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(200))
    # Targets ("mail", "chat") that already got it when another failed: a retry skips them.
    sent_to: Mapped[str | None] = mapped_column(String(64))
    sent_at: Mapped[datetime | None]
