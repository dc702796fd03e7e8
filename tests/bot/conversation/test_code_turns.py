"""Whole turns over the SQL store while a code is awaited: what the transcript keeps, what is said, and
when the code mail leaves."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import Core
from bot.channels.email.outgoing import OutgoingMail
from bot.conversation.engine import Conversation
from bot.deliveries import Deliveries, DeliveryBell
from bot.identity.codes import CodePolicy
from bot.mail.smtp import SmtpMailSender
from bot.messages import ChannelName, InboundMessage
from bot.runner import one_turn_at_a_time
from bot.store.models import Message, MessageDirection
from bot.tickets.desk import sql_turn_store_factory
from responses import Responses
from tests.support.database import FrozenClock
from tests.support.mail_servers import MailSink, extract_code, start_smtp_server
from tests.support.outbox import mail_outbox, running_outbox
from tests.tickets.helpers import RecordingMailSender, make_settings


def conversation(
    core: Core,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FrozenClock,
    policy: CodePolicy | None = None,
) -> Conversation:
    """The real conversation over the SQL turn store, codes mailed to a recorder."""
    outbox = mail_outbox(sessionmaker, clock, RecordingMailSender())
    stores = sql_turn_store_factory(
        sessionmaker, clock, make_settings(), Responses(), code_policy=policy, after_commit=outbox.flush
    )
    return core.conversation(stores)


async def say(chat: Conversation, text: str) -> str:
    """One web message from the same person; the replies' text."""
    result = await chat.handle(InboundMessage(ChannelName.WEB, "web-anna", text))
    return " ".join(reply.text for reply in result.replies)


async def test_typed_code_was_stored_in_clear_in_the_transcript(
    core: Core, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """Regression: the code the person typed stood in the transcript as typed. It is stored masked now,
    in every spelling (``482913``, ``482 913``), while the rest of the message is kept."""
    chat = conversation(core, sessionmaker, clock)
    await say(chat, "Please delete my account and all my data")
    await say(chat, "anna@example.com")
    await say(chat, "482913")
    await say(chat, "the code is 482 913 I think")
    async with sessionmaker() as session:
        texts = (
            await session.scalars(
                select(Message.text).where(Message.direction == MessageDirection.INBOUND).order_by(Message.id)
            )
        ).all()
    assert texts[1] == "anna@example.com"
    assert texts[2:] == ["••••••", "the code is •••••• I think"]


async def test_person_is_told_about_the_cooling_off(
    core: Core, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """When the wrong codes reach the cap, the reply says that codes pause, for how long, and whom to ask."""
    chat = conversation(core, sessionmaker, clock, CodePolicy(max_failures=2))
    await say(chat, "Please delete my account and all my data")
    await say(chat, "anna@example.com")
    first = await say(chat, "000001")
    second = await say(chat, "000002")
    assert "isn't right" in first
    assert "24 hours" in second and "privacy@zynorlink.example" in second
    assert "24 hours" in await say(chat, "send a new code")


class SlowSink(MailSink):
    """An SMTP server that takes ``delay`` seconds to accept each mail; ``receiving`` is set once one
    mail is being received (the server runs in its own thread)."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay
        self.receiving = threading.Event()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Accept the mail after ``delay`` seconds."""
        self.receiving.set()
        await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_code_mail_is_sent_after_commit(
    core: Core, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """Regression: the code mail was sent inside the turn's transaction, so a slow SMTP server held the
    SQLite write lock (and the process's turn lock) for everyone. The mail goes out after the commit: while
    the server is still taking it, another person's turn completes at once; the mail then arrives once."""
    sink = SlowSink(delay=3.0)
    server = start_smtp_server(sink=sink)
    settings = make_settings(smtp_host=server.host, smtp_port=server.port)
    bell, deliveries = DeliveryBell(), Deliveries()
    sender = SmtpMailSender.from_settings(settings)
    deliveries.register(OutgoingMail(sender, mail_from=settings.mail_from, responses=core.responses))
    stores = sql_turn_store_factory(sessionmaker, clock, settings, core.responses, after_commit=bell.ring)
    handle = one_turn_at_a_time(core.conversation(stores).handle)  # as `privacybot run` on SQLite
    try:
        async with running_outbox(sessionmaker, clock, deliveries, bell):
            await handle(InboundMessage(ChannelName.WEB, "web-anna", "Please delete my account"))
            await handle(InboundMessage(ChannelName.WEB, "web-anna", "anna@example.com"))
            assert await asyncio.to_thread(sink.receiving.wait, 10)
            started = time.monotonic()
            other = await handle(
                InboundMessage(ChannelName.WEB, "web-boris", "How long do you keep my data?")
            )
            took = time.monotonic() - started
            assert other.replies and sink.messages == []  # done while the code mail was still in transit
            assert took < sink.delay / 2
            [mail] = await sink.wait_for(1, timeout=10)
    finally:
        server.controller.stop()
    assert mail.rcpt_tos == ("anna@example.com",) and extract_code(mail)
