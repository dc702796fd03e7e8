"""The email fallback through the test SMTP server: officer messages sent close together reach a person whose
channel cannot as one mail per ticket, dated, its Message-ID on our mail domain; and every other mail we
send (the code mail, the officer's notices) is dated and named on our domain too."""

from __future__ import annotations

from datetime import timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import Core
from bot.domain.channels import ChannelName
from bot.mail.smtp import SmtpMailSender
from bot.store.officer_models import DeliveryRoute
from tests.officer.conftest import Workspace, build_workspace, email_workspace
from tests.support.database import FrozenClock
from tests.support.mail_servers import ReceivedMail, SmtpServer, extract_code

PERSON = "person@example.test"
TELEGRAM_CHAT = "4242"


def assert_well_formed(mail: ReceivedMail, domain: str = "zynorlink.example") -> None:
    """``mail`` has a Date that parses and a Message-ID on ``domain``."""
    date = mail.message["Date"]
    assert date is not None and parsedate_to_datetime(str(date)).tzinfo is not None
    message_id = str(mail.message["Message-ID"])
    assert message_id.startswith("<") and message_id.endswith(f"@{domain}>"), message_id


async def verified_telegram_ticket(workspace: Workspace) -> str:
    """A Telegram requester proves their address and opens an erasure ticket; its reference."""
    await workspace.say("please delete my account", sender=TELEGRAM_CHAT, channel=ChannelName.TELEGRAM)
    await workspace.say(PERSON, sender=TELEGRAM_CHAT, channel=ChannelName.TELEGRAM)
    code = extract_code(workspace.mail.sent[-1])
    opened = await workspace.say(code, sender=TELEGRAM_CHAT, channel=ChannelName.TELEGRAM)
    assert opened.outcome is not None and opened.outcome.ticket_reference
    return opened.outcome.ticket_reference


def batched(
    core: Core, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock, smtp_server: SmtpServer
) -> Workspace:
    """A workspace whose fallback mails through the test SMTP server after 2 minutes, batching the messages
    of a ticket queued less than 30 s apart."""
    mail = SmtpMailSender(host=smtp_server.host, port=smtp_server.port)
    return build_workspace(
        core, sessionmaker, clock, fallback_mail=mail, fallback_window=timedelta(seconds=30)
    )


async def test_officer_messages_close_together_are_one_fallback_mail(
    core: Core, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock, smtp_server: SmtpServer
) -> None:
    """Regression: three officer messages to a person whose Telegram refuses them were three fallback mails.
    Messages queued less than the batch window apart wait for the newest to be that old and go as one mail,
    in order, with a Date and a Message-ID on the mail domain; the ticket page shows all three mailed."""
    workspace = batched(core, sessionmaker, clock, smtp_server)
    outbox = workspace.outbox
    reference = await verified_telegram_ticket(workspace)
    workspace.channels[ChannelName.TELEGRAM].down = True
    await workspace.desk.reply(reference, "First: we found your account.", officer="o@x.test")
    clock.advance(seconds=10)
    await workspace.desk.reply(reference, "Second: the data is deleted.", officer="o@x.test")
    clock.advance(seconds=90)
    await workspace.desk.reply(reference, "Third: the backups follow in 30 days.", officer="o@x.test")
    clock.advance(seconds=21)  # the first is due, the third is only 21 s old: the mail waits for more
    await outbox.flush()
    assert not [m for m in smtp_server.sink.messages if PERSON in m.rcpt_tos]
    clock.advance(seconds=10)
    await outbox.flush()
    [mail] = await smtp_server.sink.wait_for(lambda m: PERSON in m.rcpt_tos)
    assert mail.subject.startswith(f"[{reference}]")
    text = mail.text
    assert text.index("First:") < text.index("Second:") < text.index("Third:")
    assert_well_formed(mail)
    assert str(mail.message["Message-ID"]).startswith(f"<{reference.lower()}.")
    clock.advance(minutes=5)
    await outbox.flush()
    assert len([m for m in smtp_server.sink.messages if PERSON in m.rcpt_tos]) == 1
    page = await workspace.desk.page(reference)
    assert page is not None
    assert [record.route for record in page.deliveries] == [DeliveryRoute.EMAIL_FALLBACK] * 3


async def test_messages_further_apart_than_the_window_are_mailed_apart(
    core: Core, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock, smtp_server: SmtpServer
) -> None:
    """Two officer messages five minutes apart are two fallback mails, each two minutes after its message."""
    workspace = batched(core, sessionmaker, clock, smtp_server)
    outbox = workspace.outbox
    reference = await verified_telegram_ticket(workspace)
    workspace.channels[ChannelName.TELEGRAM].down = True
    await workspace.desk.reply(reference, "Morning message.", officer="o@x.test")
    clock.advance(minutes=2, seconds=1)
    await outbox.flush()
    [first] = await smtp_server.sink.wait_for(lambda m: PERSON in m.rcpt_tos)
    clock.advance(minutes=3)
    await workspace.desk.reply(reference, "Afternoon message.", officer="o@x.test")
    clock.advance(minutes=2, seconds=1)
    await outbox.flush()
    [second] = await smtp_server.sink.wait_for(lambda m: "Afternoon message." in m.text)
    assert "Morning message." in first.text and "Afternoon message." not in first.text
    assert "Morning message." not in second.text
    assert len([m for m in smtp_server.sink.messages if PERSON in m.rcpt_tos]) == 2


async def test_code_mail_has_a_date_and_a_message_id_on_the_mail_domain(
    tmp_path: Path,
    core: Core,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FrozenClock,
    smtp_server: SmtpServer,
) -> None:
    """Regression: the one-time code mail had no Date header. Through SMTP it has one, and its Message-ID is
    on the domain of the sender address, not the machine's host name."""
    workspace = email_workspace(tmp_path, core, sessionmaker, clock, smtp_server)
    await workspace.say("please delete my account", sender=TELEGRAM_CHAT, channel=ChannelName.TELEGRAM)
    await workspace.say(PERSON, sender=TELEGRAM_CHAT, channel=ChannelName.TELEGRAM)
    [mail] = await smtp_server.sink.wait_for(lambda m: PERSON in m.rcpt_tos)
    assert extract_code(mail)
    assert_well_formed(mail)
