"""Mail out of the delivery outbox: a turn's replies as one reply mail in its thread, an officer's message,
a one-time code as a plain mail of its own. ``OutgoingMail`` does it alone when IMAP is not configured
(later messages for the email channel, such as an officer's answer to a terminal conversation, which has no
way back but email, and the code mails, still go out through the mail sender: SMTP or the spool folder)."""

from __future__ import annotations

from collections.abc import Sequence
from email.message import EmailMessage

from bot.channels.email.compose import compose_mail, mail_domain, outgoing_message_id
from bot.domain.channels import ChannelName
from bot.domain.errors import DeliveryFailed
from bot.mail import MailDeliveryError, MailSender, plain_message
from bot.messages import (
    ATTACHMENT_NAME_META,
    ATTACHMENT_TEXT_META,
    AUTHOR_META,
    MAIL_SUBJECT_META,
    OFFICER_AUTHOR,
    OutboundMessage,
)
from responses import Responses


def outbound_mail(
    messages: Sequence[OutboundMessage], *, key: str | None, mail_from: str, responses: Responses
) -> EmailMessage:
    """The one mail for ``messages`` (one recipient's). ``key`` names the delivery: the Message-ID derives
    from it, so a mail sent again is recognisably the same one (a random id without a key)."""
    first = messages[0]
    subject = first.meta.get(MAIL_SUBJECT_META)
    if subject is not None:  # a mail of its own (a one-time code, an archived policy), not a reply
        mail = plain_message(sender=mail_from, to=first.recipient_id, subject=subject, body=first.text)
        attached = first.meta.get(ATTACHMENT_TEXT_META)
        if attached is not None:
            name = first.meta.get(ATTACHMENT_NAME_META) or "attachment.txt"
            mail.add_attachment(attached, subtype="plain", charset="utf-8", filename=name)
        mail.replace_header(
            "Message-ID", outgoing_message_id(domain=mail_domain(mail_from), reference=None, seed=key)
        )
        mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-responder should answer it
        return mail
    by_officer = first.meta.get(AUTHOR_META) == OFFICER_AUTHOR  # a person wrote it: not an auto-reply
    return compose_mail(messages, sender=mail_from, responses=responses, seed=key, auto_reply=not by_officer)


async def mail_outbound(
    messages: Sequence[OutboundMessage],
    *,
    key: str | None,
    mail_sender: MailSender,
    mail_from: str,
    responses: Responses,
) -> None:
    """Mail ``messages`` to their recipient as one mail (threaded when ``meta`` has the ids). Raises
    DeliveryFailed."""
    mail = outbound_mail(messages, key=key, mail_from=mail_from, responses=responses)
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
        await self.deliver_together([message], key=None)

    async def deliver_together(self, messages: Sequence[OutboundMessage], *, key: str | None) -> None:
        """Mail ``messages`` as one mail. Raises DeliveryFailed."""
        await mail_outbound(
            messages,
            key=key,
            mail_sender=self._mail_sender,
            mail_from=self._mail_from,
            responses=self._responses,
        )
