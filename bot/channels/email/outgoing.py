"""Mail to a person without the privacy mailbox: when IMAP is not configured, later messages for the email
channel (an officer's answer to a terminal conversation, which has no way back but email) still go out
through the mail sender (SMTP, or the spool folder)."""

from __future__ import annotations

from bot.channels.email.compose import compose_mail
from bot.domain.channels import ChannelName
from bot.domain.errors import DeliveryFailed
from bot.mail import MailDeliveryError, MailSender
from bot.messages import OutboundMessage
from responses import Responses


async def mail_outbound(
    message: OutboundMessage, *, mail_sender: MailSender, mail_from: str, responses: Responses
) -> None:
    """Mail ``message`` to ``recipient_id`` (threaded when ``meta`` has the ids). Raises DeliveryFailed."""
    mail = compose_mail([message], sender=mail_from, responses=responses, auto_reply=False)
    try:
        await mail_sender.send(mail)
    except MailDeliveryError as exc:
        raise DeliveryFailed(ChannelName.EMAIL, str(exc)) from exc


class OutgoingMail:
    """The email channel's delivery only: nothing is read, so start and stop do nothing."""

    name = ChannelName.EMAIL

    def __init__(self, mail_sender: MailSender, *, mail_from: str, responses: Responses) -> None:
        self._mail_sender = mail_sender
        self._mail_from = mail_from
        self._responses = responses

    async def start(self) -> None:
        """Nothing to start."""

    async def stop(self) -> None:
        """Nothing to stop."""

    async def deliver(self, message: OutboundMessage) -> None:
        """Mail ``message``. Raises DeliveryFailed."""
        await mail_outbound(
            message, mail_sender=self._mail_sender, mail_from=self._mail_from, responses=self._responses
        )
