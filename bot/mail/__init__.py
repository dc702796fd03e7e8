"""Outgoing mail behind a Protocol: the SMTP implementation is in ``bot.mail.smtp``.

Every message we build carries what RFC 5322 asks of it: a ``Date`` and a ``Message-ID`` on our own mail
domain (the domain of ``PRIVACYBOT_MAIL_FROM``), never the machine's host name.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Protocol


class MailDeliveryError(Exception):
    """A message could not be handed to the mail server (the reason names no address)."""


class MailSender(Protocol):
    """Sends one message; raises MailDeliveryError when it cannot."""

    async def send(self, message: EmailMessage) -> None:
        """Hand ``message`` to the mail server."""
        ...


def mail_domain(address: str) -> str:
    """The domain of ``address`` (``Name <user@host>`` or ``user@host``; ``localhost`` when it has none)."""
    _, plain = parseaddr(address)
    return (plain or address).rpartition("@")[2].strip(" >").lower() or "localhost"


def message_id(*, domain: str, prefix: str = "r", seed: str | None = None) -> str:
    """``<prefix.token@domain>``; the same ``seed`` gives the same id (a random token without one)."""
    token = hashlib.sha256(seed.encode()).hexdigest()[:24] if seed else uuid.uuid4().hex[:24]
    return f"<{prefix}.{token}@{domain}>"


def complete_headers(message: EmailMessage, *, now: datetime | None = None) -> EmailMessage:
    """Add a ``Date`` and a ``Message-ID`` on the sender's domain where ``message`` lacks them."""
    if "Date" not in message:
        message["Date"] = format_datetime(now or datetime.now(UTC))
    if "Message-ID" not in message:
        message["Message-ID"] = message_id(domain=mail_domain(str(message.get("From", ""))))
    return message


def plain_message(
    *, sender: str, to: str, subject: str, body: str, now: datetime | None = None
) -> EmailMessage:
    """A plain-text UTF-8 mail, dated ``now`` (the current time by default), its Message-ID on the domain of
    ``sender``."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    complete_headers(message, now=now)
    message.set_content(body)
    return message
