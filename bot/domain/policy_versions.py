"""Policy versions as every layer names them: the version value and what became of a request to mail one. The
actions reach the archive through the ``RequestDesk`` (``bot.domain.tickets``); ``bot.policy_versions``
implements it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


@dataclass(frozen=True)
class PolicyVersion:
    """One archived policy text. ``id`` is the first hex digits of ``sha256``; ``effective_from`` is the
    date the text states, else ``first_seen``; ``current`` is the version the assistant runs on."""

    id: str
    sha256: str
    first_seen: datetime
    effective_from: datetime
    current: bool


class ArchiveMailResult(StrEnum):
    """What became of a request to mail an archived version."""

    SENT = "sent"
    ALREADY_SENT = "already_sent"  # the same version to the same address from this conversation, lately
    TOO_MANY = "too_many"  # this conversation had its share of archive mails for now
    UNKNOWN_VERSION = "unknown_version"
    INVALID_ADDRESS = "invalid_address"
