"""The tables of policy versions: every text the assistant ran on, the announcements of a new version to the
accounts, and the archived versions mailed to people who asked (so a request is not answered twice)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.models import Base


class PolicyVersionRow(Base):
    """One policy text, keyed by its SHA-256 (``id`` is its first 12 hex digits); ``effective_from`` is the
    date the text states for itself, else ``first_seen`` (``stated_effective`` tells which)."""

    __tablename__ = "policy_versions"
    __table_args__ = (UniqueConstraint("sha256", name="uq_policy_versions_sha256"),)

    id: Mapped[str] = mapped_column(String(12), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    first_seen: Mapped[datetime]
    effective_from: Mapped[datetime]
    stated_effective: Mapped[bool] = mapped_column(default=False)


class PolicyAnnouncement(Base):
    """The announcement of a version to every known account: when it takes effect, against which version
    its summary was written, and how many accounts it was queued for."""

    __tablename__ = "policy_announcements"
    __table_args__ = (UniqueConstraint("version_id", name="uq_policy_announcements_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[str] = mapped_column(ForeignKey("policy_versions.id"))
    previous_version_id: Mapped[str | None] = mapped_column(ForeignKey("policy_versions.id"))
    effective_on: Mapped[datetime]
    minor: Mapped[bool] = mapped_column(default=False)
    announced_at: Mapped[datetime]
    recipients: Mapped[int] = mapped_column(default=0)


class PolicyArchiveMailing(Base):
    """An archived version mailed on request: to whom only as a hash of the address."""

    __tablename__ = "policy_archive_mailings"
    __table_args__ = (Index("ix_policy_archive_mailings_conversation", "conversation_id", "mailed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    version_id: Mapped[str] = mapped_column(ForeignKey("policy_versions.id"))
    address_hash: Mapped[str] = mapped_column(String(64))
    mailed_at: Mapped[datetime]


class PolicyAnnouncementRecipient(Base):
    """An account an announcement was queued for (a hash of its address): a repeat skips it."""

    __tablename__ = "policy_announcement_recipients"
    __table_args__ = (
        UniqueConstraint("announcement_id", "address_hash", name="uq_policy_announcement_recipients"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    announcement_id: Mapped[int] = mapped_column(ForeignKey("policy_announcements.id", ondelete="CASCADE"))
    address_hash: Mapped[str] = mapped_column(String(64))
    queued_at: Mapped[datetime]
