"""An officer's reply on each channel's real delivery path: an email in the ticket's thread (test SMTP
server), a Telegram message (Bot API stand-in), the web chat's history and open pages, and a mail for a
terminal conversation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import Core
from bot.channels.email.compose import META_MESSAGE_ID, META_REFERENCES, META_SUBJECT
from bot.channels.email.outgoing import OutgoingMail
from bot.channels.telegram import build_telegram_channel
from bot.channels.web import build_web_channel
from bot.channels.web.app import WebChannel
from bot.channels.web.history import SqlWebHistory
from bot.deliveries import Deliveries
from bot.domain.channels import ChannelName
from bot.mail import MailSender
from bot.mail.smtp import SmtpMailSender
from bot.store.officer_models import DeliveryRoute
from tests.officer.conftest import Workspace, build_workspace, email_workspace
from tests.support.core import make_settings
from tests.support.database import FrozenClock
from tests.support.mail_servers import SmtpServer, extract_code, message_text
from tests.support.telegram_api import BOT_TOKEN, FakeTelegramAPI
from tests.tickets.helpers import RecordingMailSender

PERSON = "person@example.test"


@asynccontextmanager
async def web_chat(
    tmp_path: Path,
    core: Core,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FrozenClock,
    *,
    fallback_mail: MailSender | None = None,
) -> AsyncIterator[tuple[Workspace, WebChannel]]:
    """A workspace whose web chat runs on a real aiohttp server (a free port), stopped on leaving."""
    deliveries = Deliveries()
    workspace = build_workspace(
        core,
        sessionmaker,
        clock,
        deliveries,
        self_storing=frozenset({ChannelName.WEB}),
        fallback_mail=fallback_mail,
    )
    channel = build_web_channel(
        make_settings(tmp_path, web_port=0),
        workspace.conversation.handle,
        SqlWebHistory(sessionmaker),
        core.responses,
    )
    deliveries.register(channel)
    await channel.start()
    try:
        yield workspace, channel
    finally:
        await channel.stop()


async def test_email_reply_is_mailed_in_the_ticket_thread(
    tmp_path: Path,
    core: Core,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FrozenClock,
    smtp_server: SmtpServer,
) -> None:
    """A person who wrote by email gets the officer's answer as a mail replying to their message, with the
    ticket reference in the subject."""
    workspace = email_workspace(tmp_path, core, sessionmaker, clock, smtp_server)
    meta = {
        META_MESSAGE_ID: "<m1@example.test>",
        META_REFERENCES: "<m1@example.test>",
        META_SUBJECT: "I need a human",
    }
    result = await workspace.say(
        "/human", sender=PERSON, channel=ChannelName.EMAIL, meta=meta, claimed_address=PERSON
    )
    assert result.outcome is not None and result.outcome.ticket_reference
    reference = result.outcome.ticket_reference
    sent = await workspace.desk.reply(reference, "Hello from the officer.", officer="o@x.test")
    assert sent.delivered
    [mail] = await smtp_server.sink.wait_for(lambda m: "Hello from the officer." in m.text)
    assert mail.rcpt_tos == (PERSON,) and mail.message["In-Reply-To"] == "<m1@example.test>"
    assert reference in mail.subject


async def test_telegram_reply_is_sent_to_the_chat(
    tmp_path: Path,
    core: Core,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FrozenClock,
    telegram_api: FakeTelegramAPI,
) -> None:
    """A Telegram requester's ticket is answered in their chat through the channel's bot."""
    deliveries = Deliveries()
    workspace = build_workspace(core, sessionmaker, clock, deliveries)
    settings = make_settings(tmp_path, telegram_token=BOT_TOKEN, telegram_api_base=telegram_api.base_url)
    channel = build_telegram_channel(settings, workspace.conversation.handle, None)
    deliveries.register(channel)
    try:
        result = await workspace.say("/human", sender="4242", channel=ChannelName.TELEGRAM)
        assert result.outcome is not None and result.outcome.ticket_reference
        await workspace.desk.reply(result.outcome.ticket_reference, "Officer here.", officer="o@x.test")
        assert "Officer here." in telegram_api.sent_messages(4242)[-1]["text"]
    finally:
        await channel.stop()


async def test_web_reply_is_pushed_to_the_open_page_and_kept_for_the_next_visit(
    tmp_path: Path,
    core: Core,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FrozenClock,
) -> None:
    """A web-chat requester with the page open receives the reply on its websocket; the reply is in the
    session's history once (the web chat stores what it delivers)."""
    async with web_chat(tmp_path, core, sessionmaker, clock) as (workspace, channel):
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{channel.url}/api/sessions") as response:
                session_id = (await response.json())["session_id"]
            async with http.post(
                f"{channel.url}/api/chat", json={"session_id": session_id, "text": "/human"}
            ) as response:
                reference = (await response.json())["ticket_reference"]
            async with http.ws_connect(f"{channel.url}/api/sessions/{session_id}/ws") as socket:
                await workspace.desk.reply(reference, "Live answer", officer="o@x.test")
                pushed = await socket.receive_json(timeout=5)
            assert "Live answer" in pushed["text"] and pushed["ticket_reference"] == reference
            async with http.get(f"{channel.url}/api/sessions/{session_id}/messages") as response:
                texts = [m["text"] for m in (await response.json())["messages"]]
            assert sum("Live answer" in text for text in texts) == 1


async def test_reply_to_a_closed_web_page_arrives_by_email(
    tmp_path: Path,
    core: Core,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FrozenClock,
    smtp_server: SmtpServer,
) -> None:
    """The officer answers a verified web-chat requester whose page is closed: the reply waits in the chat;
    two minutes later it is mailed to the verified address with the reference in the subject, and the
    ticket page says so. A reply the person comes back for in time is not mailed."""
    fallback_mail = SmtpMailSender(host=smtp_server.host, port=smtp_server.port)
    async with web_chat(tmp_path, core, sessionmaker, clock, fallback_mail=fallback_mail) as (
        workspace,
        channel,
    ):
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{channel.url}/api/sessions") as response:
                session_id = (await response.json())["session_id"]

            async def say(text: str) -> dict[str, object]:
                async with http.post(
                    f"{channel.url}/api/chat", json={"session_id": session_id, "text": text}
                ) as response:
                    answer: dict[str, object] = await response.json()
                    return answer

            await say("please delete my account")
            await say(PERSON)
            reference = str((await say(extract_code(workspace.mail.sent[-1])))["ticket_reference"])
            sent = await workspace.desk.reply(reference, "Your account is deleted.", officer="o@x.test")
            assert sent.delivered and sent.kept
            clock.advance(minutes=1)
            await workspace.outbox.flush()
            assert not [m for m in smtp_server.sink.messages if PERSON in m.rcpt_tos]
            clock.advance(minutes=1, seconds=1)
            await workspace.outbox.flush()
            mail = (await smtp_server.sink.wait_for(lambda m: PERSON in m.rcpt_tos))[0]
            assert mail.subject.startswith(f"[{reference}]")
            assert "Your account is deleted." in mail.text

            await workspace.desk.reply(reference, "One more thing.", officer="o@x.test")
            async with http.ws_connect(f"{channel.url}/api/sessions/{session_id}/ws"):
                async with http.get(f"{channel.url}/api/sessions/{session_id}/messages") as response:
                    texts = [m["text"] for m in (await response.json())["messages"]]
            assert any("One more thing." in text for text in texts)
            clock.advance(minutes=5)
            await workspace.outbox.flush()
    assert len([m for m in smtp_server.sink.messages if PERSON in m.rcpt_tos]) == 1
    page = await workspace.desk.page(reference)
    assert page is not None
    assert [record.route for record in page.deliveries] == [
        DeliveryRoute.EMAIL_FALLBACK,
        DeliveryRoute.SEEN_ON_RETURN,
    ]


async def test_reply_to_a_telegram_chat_that_refuses_it_is_mailed(
    core: Core, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """A verified Telegram requester who blocked the bot gets the reply by email two minutes later; the
    channel stops retrying it and the ticket page names the route."""
    fallback_mail = RecordingMailSender()
    workspace = build_workspace(core, sessionmaker, clock, fallback_mail=fallback_mail)
    await workspace.say("please delete my account", sender="4242", channel=ChannelName.TELEGRAM)
    await workspace.say(PERSON, sender="4242", channel=ChannelName.TELEGRAM)
    code = extract_code(workspace.mail.sent[-1])
    opened = await workspace.say(code, sender="4242", channel=ChannelName.TELEGRAM)
    assert opened.outcome is not None and opened.outcome.ticket_reference
    reference = opened.outcome.ticket_reference
    workspace.channels[ChannelName.TELEGRAM].down = True
    sent = await workspace.desk.reply(reference, "Deleted.", officer="o@x.test")
    assert not sent.delivered
    clock.advance(minutes=2, seconds=1)
    await workspace.outbox.flush()
    [mail] = fallback_mail.sent
    assert mail["To"] == PERSON and reference in str(mail["Subject"])
    assert await workspace.outbox.pending() == 0
    page = await workspace.desk.page(reference)
    assert page is not None and [r.route for r in page.deliveries] == [DeliveryRoute.EMAIL_FALLBACK]


async def test_terminal_handoff_promises_email_and_the_answer_is_mailed(
    core: Core, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """A person at `privacybot chat` who proved their address and asks for a human is told the officer
    answers by email to that address (the terminal session ends when they quit); the officer's reply is
    mailed there through the outgoing-mail delivery, not sent to the terminal."""
    deliveries = Deliveries()
    workspace = build_workspace(core, sessionmaker, clock, deliveries)
    outgoing = RecordingMailSender()
    mail_from = "privacy@zynorlink.example"
    deliveries.register(OutgoingMail(outgoing, mail_from=mail_from, responses=core.responses))
    terminal = {"sender": "terminal:sam", "channel": ChannelName.CLI}
    await workspace.say("I want to delete my account", **terminal)
    await workspace.say(PERSON, **terminal)
    await workspace.say(extract_code(outgoing.sent[-1]), **terminal)
    result = await workspace.say("/human", **terminal)
    assert result.outcome is not None and result.outcome.ticket_reference
    told = result.replies[-1].text
    assert f"answer by email to {PERSON}" in told and "ends when you quit" in told
    assert "reply here" not in told

    sent = await workspace.desk.reply(result.outcome.ticket_reference, "Officer here.", officer="o@x.test")
    assert sent.delivered
    mail = outgoing.sent[-1]
    assert mail["To"] == PERSON and "Officer here." in message_text(mail)
