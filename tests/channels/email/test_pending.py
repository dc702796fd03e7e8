"""A reply the SMTP server refused is kept and sent on the next round; the mail itself is done at once."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

from bot.app import Core
from bot.channels.email import build_email_channel
from bot.conversation.memory import MemoryTurnStore
from bot.mail import MailDeliveryError
from bot.mail.smtp import SmtpMailSender
from tests.channels.email.conftest import make_mail, wait_until
from tests.support.core import make_settings
from tests.support.imap_server import ImapMailbox
from tests.support.mail_servers import SmtpServer


class RefusesFirst:
    """A MailSender whose first send fails, as during a short SMTP outage."""

    def __init__(self, inner: SmtpMailSender) -> None:
        self.inner = inner
        self.refused = 0

    async def send(self, message: EmailMessage) -> None:
        """Refuse once, then pass through."""
        if not self.refused:
            self.refused += 1
            raise MailDeliveryError("SMTP delivery failed: simulated outage")
        await self.inner.send(message)


async def test_refused_reply_is_resent_from_the_pending_replies(
    core: Core, imap_server: ImapMailbox, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    """The first reply fails to send: the mail is still marked done, and the reply goes out later, once."""
    settings = make_settings(
        tmp_path,
        imap_host=imap_server.host,
        imap_port=imap_server.port,
        imap_user=imap_server.user,
        imap_password=imap_server.password,
        imap_security="none",
        imap_poll_seconds=0.5,
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
    )
    sender = RefusesFirst(SmtpMailSender.from_settings(settings))
    channel = build_email_channel(settings, core.conversation(MemoryTurnStore()).handle, sender)
    await imap_server.adeliver(make_mail("Hello,\n\nwhat personal data do you collect about me?"))
    await channel.start()
    try:
        await wait_until(imap_server.alist_folder, lambda found: "$PrivacybotDone" in found[0].flags)
        [reply] = await smtp_server.sink.wait_for(1, timeout=20)
    finally:
        await channel.stop()
    assert sender.refused == 1
    assert reply.subject == "Re: Delete my account"
    assert list((tmp_path / "email-outbox").glob("*.eml")) == []
