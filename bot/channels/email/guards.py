"""Mail the assistant must not answer: auto-replies, bulk and list mail, bounces, its own mail, floods.

Answering any of these risks a mail loop or a flood; such mail is still marked done and logged (with the
sender hashed, never in clear).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from email.message import EmailMessage
from email.utils import parseaddr
from enum import StrEnum

_BULK_PRECEDENCE = frozenset({"bulk", "list", "junk"})
_DAEMONS = frozenset({"mailer-daemon", "postmaster"})


class SkipReason(StrEnum):
    """Why a mail gets no answer."""

    AUTO_REPLY = "auto_reply"
    BULK = "bulk"
    BOUNCE = "bounce"
    OWN_ADDRESS = "own_address"
    RATE_LIMITED = "rate_limited"


def hash_address(address: str) -> str:
    """A short, stable pseudonym of an address for log lines (never log the address itself)."""
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()[:12]


def skip_reason(message: EmailMessage, sender: str, own_addresses: Iterable[str]) -> SkipReason | None:
    """Why ``message`` from ``sender`` must not be answered, or None when it may be."""
    if is_bounce(message, sender):
        return SkipReason.BOUNCE
    if is_auto_reply(message):
        return SkipReason.AUTO_REPLY
    if is_bulk(message):
        return SkipReason.BULK
    if sender.lower() in {a.strip().lower() for a in own_addresses if a}:
        return SkipReason.OWN_ADDRESS
    return None


def is_auto_reply(message: EmailMessage) -> bool:
    """``Auto-Submitted`` other than "no" (RFC 3834), or the common X-Autoreply / X-Autorespond marks."""
    auto = str(message.get("Auto-Submitted", "")).split(";")[0].strip().lower()
    if auto and auto != "no":
        return True
    return any(name in message for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder"))


def is_bulk(message: EmailMessage) -> bool:
    """``Precedence: bulk/list/junk`` or a mailing list's ``List-Id`` / ``List-Unsubscribe``."""
    precedence = str(message.get("Precedence", "")).strip().lower()
    return precedence in _BULK_PRECEDENCE or "List-Id" in message or "List-Unsubscribe" in message


def is_bounce(message: EmailMessage, sender: str) -> bool:
    """An empty Return-Path (``<>``), a mail from MAILER-DAEMON, or a ``multipart/report`` DSN."""
    return_paths = [str(v).strip() for v in message.get_all("Return-Path") or []]
    if any(path in ("<>", "") or parseaddr(path)[1] == "" for path in return_paths):
        return True
    if sender.partition("@")[0].lower() in _DAEMONS:
        return True
    return message.get_content_type() == "multipart/report"
