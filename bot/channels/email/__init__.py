"""The email channel: the privacy mailbox read over IMAP, answered over SMTP in each mail's thread.

``build_email_channel`` is what the runner calls; everything else in this package is its parts.
"""

from __future__ import annotations

import ssl

from bot.channels.base import HandleInbound
from bot.channels.email.channel import EmailChannel
from bot.channels.email.guards import ReplyLimiter
from bot.channels.email.imap import ImapAccount
from bot.channels.email.pending import PendingReplies
from bot.deliveries import Channel
from bot.mail import MailSender
from bot.settings import Settings
from responses import Responses

__all__ = ["EmailChannel", "EmailNotConfigured", "build_email_channel"]


class EmailNotConfigured(ValueError):
    """The IMAP host, user or password is missing."""


def build_email_channel(
    settings: Settings,
    handle: HandleInbound,
    mail_sender: MailSender,
    *,
    responses: Responses | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> Channel:
    """The email channel for ``settings.imap_*``, answering through ``mail_sender``.

    ``ssl_context`` replaces the system trust store for the IMAP connection (a private CA).
    Raises EmailNotConfigured when ``settings.email_enabled`` is false.
    """
    if not (settings.imap_host and settings.imap_user and settings.imap_password):
        raise EmailNotConfigured(
            "set PRIVACYBOT_IMAP_HOST, PRIVACYBOT_IMAP_USER and PRIVACYBOT_IMAP_PASSWORD"
        )
    account = ImapAccount(
        host=settings.imap_host,
        port=settings.imap_port,
        user=settings.imap_user,
        password=settings.imap_password.get_secret_value(),
        folder=settings.imap_folder,
        quarantine_folder=settings.imap_quarantine_folder,
        security=settings.imap_security,
        ssl_context=ssl_context,
    )
    return EmailChannel(
        account=account,
        handle=handle,
        mail_sender=mail_sender,
        pending=PendingReplies(settings.data_dir / "email-outbox", mail_sender),
        responses=responses or Responses(),
        limiter=ReplyLimiter(settings.email_replies_per_hour),
        mail_from=settings.mail_from,
        own_addresses=(settings.mail_from, settings.imap_user),
        authserv_id=settings.imap_authserv_id,
        attachment_max_bytes=settings.attachment_max_bytes,
        poll_seconds=settings.imap_poll_seconds,
    )
