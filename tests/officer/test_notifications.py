"""Officer notifications by email (the test SMTP server) and in the officer's Telegram chat (the Bot API
stand-in): new tickets, relayed messages, SLA reminders and breaches, with Open and Take buttons."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from email.utils import parsedate_to_datetime

import pytest
import pytest_asyncio
from aiogram import Bot

from bot.channels.telegram.officer_router import AiogramOfficerChat
from bot.domain.channels import ChannelName
from bot.domain.tickets import IdentityStatus, Priority, RequestKind, TicketStatus
from bot.mail.smtp import SmtpMailSender
from bot.officer.alerts import AlertFeed
from bot.officer.notifications import OfficerNotifications, TicketAlert
from bot.sla.deadlines import SlaEventKind
from bot.sla.notifier import NotificationFailed, SlaEvent
from bot.store.officer_models import AlertKind
from responses import Responses
from tests.officer.conftest import Workspace
from tests.support.database import START
from tests.support.mail_servers import SmtpServer
from tests.support.telegram_api import FakeTelegramAPI

OFFICER_CHAT = -100500
REFERENCE = "PRV-7K3Q-9M2D"


def alert(
    kind: AlertKind = AlertKind.NEW_TICKET, text: str | None = None, handoff: bool = False
) -> TicketAlert:
    """An alert about REFERENCE."""
    return TicketAlert(
        kind=kind,
        reference=REFERENCE,
        ticket_kind=RequestKind.ERASURE,
        channel=ChannelName.WEB,
        priority=Priority.URGENT,
        status=TicketStatus.NEW,
        identity_status=IdentityStatus.VERIFIED,
        created_at=START,
        first_response_due=START + timedelta(hours=48),
        handoff=handoff,
        text=text,
    )


def sla_event(kind: SlaEventKind) -> SlaEvent:
    """An SLA reminder (4 h before) or breach of REFERENCE."""
    return SlaEvent(
        kind=kind,
        key="breach" if kind is SlaEventKind.BREACH else "reminder_4h",
        ticket_id=1,
        reference=REFERENCE,
        ticket_kind=RequestKind.ACCESS,
        priority=Priority.NORMAL,
        status=TicketStatus.NEW,
        created_at=START,
        first_response_due=START + timedelta(hours=48),
        due_at=START + timedelta(days=30),
        hours_before=None if kind is SlaEventKind.BREACH else 4,
        assignee=None,
        at=START,
    )


@pytest_asyncio.fixture
async def bot(telegram_api: FakeTelegramAPI) -> AsyncIterator[Bot]:
    """A bot on the Bot API stand-in, closed afterwards."""
    created = telegram_api.create_bot()
    try:
        yield created
    finally:
        await created.session.close()


def notifier(
    smtp: SmtpServer | None, bot: Bot | None, public_url: str | None = "https://privacy.example"
) -> OfficerNotifications:
    """Notifications to officer@example.test and to OFFICER_CHAT, as configured."""
    mail = SmtpMailSender(host=smtp.host, port=smtp.port) if smtp else None
    chat = AiogramOfficerChat(bot, OFFICER_CHAT) if bot else None
    return OfficerNotifications(
        Responses(),
        mail=mail,
        officer_email="officer@example.test",
        mail_from="bot@zynorlink.example",
        chat=chat,
        public_url=public_url,
    )


async def test_new_ticket_is_mailed_and_posted_with_open_and_take_buttons(
    smtp_server: SmtpServer, telegram_api: FakeTelegramAPI, bot: Bot
) -> None:
    """A new ticket reaches the officer's mailbox (urgent: high importance, with the dashboard link) and the
    officer chat, whose buttons open the ticket page and take the ticket."""
    await notifier(smtp_server, bot).alert(alert())
    mail = (await smtp_server.sink.wait_for(1))[0]
    assert mail.rcpt_tos == ("officer@example.test",)
    assert REFERENCE in mail.subject and mail.message["Importance"] == "high"
    assert f"https://privacy.example/officer/tickets/{REFERENCE}" in mail.text
    posted = telegram_api.sent_messages(OFFICER_CHAT)[-1]
    assert REFERENCE in posted["text"]
    buttons = posted["reply_markup"]["inline_keyboard"][0]
    assert buttons[0]["url"] == f"https://privacy.example/officer/tickets/{REFERENCE}"
    assert buttons[1]["callback_data"] == f"officer:take:{REFERENCE}"


async def test_relayed_message_shows_its_text_and_an_end_handoff_button(
    smtp_server: SmtpServer, telegram_api: FakeTelegramAPI, bot: Bot
) -> None:
    """During a handoff the person's message is shown to the officer, with a button to end the handoff;
    without a public URL there is no Open button."""
    await notifier(smtp_server, bot, public_url=None).alert(
        alert(AlertKind.REQUESTER_MESSAGE, text="<b>please</b> call me", handoff=True)
    )
    posted = telegram_api.sent_messages(OFFICER_CHAT)[-1]
    assert "<b>please</b> call me" in posted["text"]  # sent as plain text: nothing is interpreted
    assert "parse_mode" not in telegram_api.calls_of("sendMessage")[-1].params
    data = [b.get("callback_data") for b in posted["reply_markup"]["inline_keyboard"][0]]
    assert data == [f"officer:take:{REFERENCE}", f"officer:end:{REFERENCE}"]
    assert "<b>please</b> call me" in (await smtp_server.sink.wait_for(1))[0].text


@pytest.mark.parametrize("kind", [SlaEventKind.REMINDER, SlaEventKind.BREACH])
async def test_sla_reminder_and_breach_go_to_mail_and_chat(
    kind: SlaEventKind, smtp_server: SmtpServer, telegram_api: FakeTelegramAPI, bot: Bot
) -> None:
    """The sweeper's events reach both the mailbox and the officer chat."""
    await notifier(smtp_server, bot).notify(sla_event(kind))
    mail = (await smtp_server.sink.wait_for(1))[0]
    assert ("breach" in mail.subject.lower()) is (kind is SlaEventKind.BREACH)
    text = telegram_api.sent_messages(OFFICER_CHAT)[-1]["text"]
    assert REFERENCE in text and (("passed" in text) is (kind is SlaEventKind.BREACH))


async def test_unreachable_chat_raises_notification_failed(smtp_server: SmtpServer) -> None:
    """When Telegram cannot be reached the caller is told to retry (NotificationFailed)."""
    api = FakeTelegramAPI()
    await api.start()
    bot = api.create_bot()
    await api.stop()
    try:
        with pytest.raises(NotificationFailed):
            await notifier(smtp_server, bot).alert(alert())
    finally:
        await bot.session.close()


async def test_a_retry_after_a_partial_failure_skips_the_target_that_got_it(
    smtp_server: SmtpServer,
    workspace: Workspace,
) -> None:
    """When the chat is down but the mail went out, the alert feed's retry posts to the chat only: the
    officer's mailbox gets the new-ticket mail once."""
    api = FakeTelegramAPI()
    await api.start()
    bot = api.create_bot()
    try:
        await api.stop()  # the Bot API is unreachable at first
        feed = AlertFeed(workspace.sessionmaker, sink=notifier(smtp_server, bot), clock=workspace.clock)
        await workspace.say("/human")
        assert (await feed.poll_once()).failed == 1
        assert len(await smtp_server.sink.wait_for(1)) == 1
        back = FakeTelegramAPI()
        await back.start()
        try:
            back_bot = back.create_bot()
            feed = AlertFeed(
                workspace.sessionmaker, sink=notifier(smtp_server, back_bot), clock=workspace.clock
            )
            workspace.clock.advance(minutes=2)
            assert (await feed.poll_once()).sent == 1
            assert len(back.sent_messages(OFFICER_CHAT)) == 1
            assert len(smtp_server.sink.messages) == 1
            await back_bot.session.close()
        finally:
            await back.stop()
    finally:
        await bot.session.close()


async def test_officer_notice_and_sla_mail_are_dated_on_the_mail_domain(smtp_server: SmtpServer) -> None:
    """Regression: the officer notices had no Date header and a Message-ID ending in @localhost. A new ticket
    notice and an SLA reminder each carry a Date and a Message-ID on the sender's domain."""
    notifications = notifier(smtp_server, None)
    await notifications.alert(alert())
    await notifications.notify(sla_event(SlaEventKind.REMINDER))
    mails = await smtp_server.sink.wait_for(2)
    for mail in mails:
        assert parsedate_to_datetime(str(mail.message["Date"])).tzinfo is not None
        assert str(mail.message["Message-ID"]).endswith("@zynorlink.example>")
    assert len({str(mail.message["Message-ID"]) for mail in mails}) == 2
