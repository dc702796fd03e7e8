"""The email channel: the privacy mailbox read over IMAP, answered over SMTP in each mail's thread.

``build_email_channel`` is what the runner calls; everything else in this package is its parts.
"""

from __future__ import annotations

import ssl

from bot.channels.base import HandleInbound
from bot.channels.email.channel import EmailChannel
from bot.channels.email.imap import ImapAccount
from bot.cluster.ratelimit import Allowance, RateLimiter, limit_storage
from bot.deliveries import Channel
from bot.mail import MailSender
from bot.settings import Settings
from bot.store.outbox import DeliveryQueue
from responses import Responses

__all__ = ["EmailChannel", "EmailNotConfigured", "build_email_channel", "reply_cap"]

HOUR = 3600


class EmailNotConfigured(ValueError):
    """The IMAP host, user or password is missing."""


def build_email_channel(
    settings: Settings,
    handle: HandleInbound,
    mail_sender: MailSender,
    *,
    queue: DeliveryQueue,
    responses: Responses | None = None,
    ssl_context: ssl.SSLContext | None = None,
    limiter: RateLimiter | None = None,
) -> Channel:
    """The email channel for ``settings.imap_*``, mailing what the delivery outbox hands it through
    ``mail_sender``; ``queue`` takes its notices about mail over a cap (the replies of its turns are queued
    by the conversation).

    ``ssl_context`` replaces the system trust store for the IMAP connection (a private CA); ``limiter``
    counts the replies per sender (see :func:`reply_cap`; default: in this process's memory).
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
        queue=queue,
        responses=responses or Responses(),
        limiter=limiter or RateLimiter(limit_storage(None), reply_cap(settings)),
        mail_from=settings.mail_from,
        own_addresses=(settings.mail_from, settings.imap_user),
        authserv_id=settings.imap_authserv_id,
        trusted_auth_headers=settings.imap_trusted_auth_headers,
        attachment_max_bytes=settings.attachment_max_bytes,
        poll_seconds=settings.imap_poll_seconds,
        max_backoff_seconds=settings.imap_retry_max_seconds,
        mail_max_bytes=settings.mail_max_bytes,
        mail_max_parts=settings.mail_max_parts,
    )


def reply_cap(settings: Settings) -> Allowance:
    """At most ``email_replies_per_hour`` replies to one sender in any sliding hour."""
    return Allowance("email-replies", settings.email_replies_per_hour, HOUR)
