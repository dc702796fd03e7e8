"""Outgoing mail behind a Protocol: the SMTP implementation is in ``bot.mail.smtp``."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Protocol


class MailDeliveryError(Exception):
    """A message could not be handed to the mail server (the reason names no address)."""


class MailSender(Protocol):
    """Sends one message; raises MailDeliveryError when it cannot."""

    async def send(self, message: EmailMessage) -> None:
        """Hand ``message`` to the mail server."""
        ...


def plain_message(*, sender: str, to: str, subject: str, body: str) -> EmailMessage:
    """A plain-text UTF-8 mail."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    return message
