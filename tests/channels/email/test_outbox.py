"""Email replies leave through the delivery outbox: written with the turn, sent after it, retried while the
SMTP server refuses, and sent once after a crash (dovecot, aiosmtpd, the real SQL store)."""

from __future__ import annotations

from email.message import EmailMessage

from bot.mail import MailDeliveryError
from bot.mail.smtp import SmtpMailSender
from bot.store.officer_models import DeliveryRoute
from tests.channels.email.conftest import EmailHarness, make_mail
from tests.support.outbox import drained

QUESTION = "Hello,\n\nwhat personal data do you collect about me?"


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


async def test_refused_reply_is_resent_by_the_outbox(email: EmailHarness) -> None:
    """The first reply fails to send: the mail is still marked done, and the outbox sends the reply on its
    retry, once, with the Message-ID it would have had."""
    sender = RefusesFirst(SmtpMailSender.from_settings(email.settings))
    await email.start(sender=sender)
    await email.send(make_mail(QUESTION))
    await email.wait_done(1)
    [row] = await email.queued()
    assert sender.refused == 1 and row.delivered_at is None and row.last_error
    email.clock.advance(minutes=1)  # the retry is due
    await email.bell.ring()
    [reply] = await email.smtp.sink.wait_for(1, timeout=20)
    assert reply.subject == "Re: Delete my account" and reply.message["Auto-Submitted"] == "auto-replied"
    assert email.outbox is not None
    await drained(email.outbox)
    [row] = await email.queued()
    assert row.route is DeliveryRoute.CHANNEL and len(email.smtp.sink.messages) == 1


async def test_reply_pending_at_crash_is_delivered_once_after_restart(email: EmailHarness) -> None:
    """Regression for the file outbox: a process dying between the turn's commit and the send leaves the
    reply queued in the database; the restarted process sends it on start, once, and a second restart
    sends nothing more."""
    await email.start(drain=False)  # the process dies before its drain could send anything
    await email.send(make_mail(QUESTION))
    await email.wait_done(1)
    await email.stop()
    [row] = await email.queued()
    assert row.delivered_at is None and email.smtp.sink.messages == []

    await email.start()  # the restarted process: its drain's first round sends what was left
    [reply] = await email.smtp.sink.wait_for(1, timeout=20)
    assert reply.subject == "Re: Delete my account"
    await email.stop()
    await email.start()  # a second restart
    assert email.outbox is not None
    assert (await email.outbox.flush()).delivered == 0
    assert len(email.smtp.sink.messages) == 1
    assert [r.delivered_at is not None for r in await email.queued()] == [True]
