"""A whole conversation over Telegram long polling on the real SQL store: a question, an erasure request,
the emailed code, a verified ticket."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import Core
from bot.channels.email.outgoing import OutgoingMail
from bot.channels.telegram import build_telegram_channel
from bot.deliveries import Deliveries, DeliveryBell
from bot.mail.smtp import SmtpMailSender
from bot.settings import Settings
from bot.store.models import Ticket
from bot.tickets.desk import sql_turn_store_factory
from tests.channels.telegram.conftest import Turns, telegram_settings
from tests.support.database import FrozenClock
from tests.support.mail_servers import SmtpServer, extract_code
from tests.support.outbox import drained, running_outbox
from tests.support.telegram_api import FakeTelegramAPI

CHAT = 5150
ADDRESS = "jane.doe@example.com"
REFERENCE = re.compile(r"PRV-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}")


@asynccontextmanager
async def conversing(
    core: Core, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> AsyncIterator[Turns]:
    """The real conversation on the SQL store with its delivery outbox running: replies go to the channel
    served, code mails to the settings' SMTP server."""
    bell, deliveries = DeliveryBell(), Deliveries()
    sender = SmtpMailSender.from_settings(settings)
    deliveries.register(OutgoingMail(sender, mail_from=settings.mail_from, responses=core.responses))
    stores = sql_turn_store_factory(sessionmaker, clock, settings, core.responses, after_commit=bell.ring)
    async with running_outbox(sessionmaker, clock, deliveries, bell) as outbox:
        yield Turns(core.conversation(stores).handle, deliveries, outbox)


class Chat:
    """A person typing in the private chat and reading the bot's replies."""

    def __init__(self, api: FakeTelegramAPI, turns: Turns) -> None:
        """Talk through ``api``; ``turns`` sends the replies."""
        self.api = api
        self.turns = turns

    async def say(self, text: str) -> list[str]:
        """Send ``text`` and return the HTML texts of the replies its turn produced."""
        before = len(self.api.calls_of("sendMessage"))
        await handled(self.api, self.api.queue_update(self.api.message_update(CHAT, text)))
        await drained(self.turns.outbox)
        return [call.params["text"] for call in self.api.calls_of("sendMessage")[before:]]


async def handled(api: FakeTelegramAPI, update: dict[str, object]) -> None:
    """Wait until the bot confirmed ``update`` (its next getUpdates offset passed it): the turn is over."""
    deadline = time.monotonic() + 15
    while any(queued is update for queued in api.updates):
        if time.monotonic() > deadline:
            raise TimeoutError("update not confirmed")
        await asyncio.sleep(0.01)


async def test_question_then_verified_erasure_ticket(
    tmp_path: Path,
    telegram_api: FakeTelegramAPI,
    smtp_server: SmtpServer,
    core: Core,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FrozenClock,
) -> None:
    """Over polling: a policy question is answered; an erasure request asks for the email address, mails a
    6-digit code, and the code opens a verified ticket whose reference is shown in bold."""
    settings = telegram_settings(
        tmp_path, telegram_api, smtp_host=smtp_server.host, smtp_port=smtp_server.port
    )
    async with conversing(core, settings, sessionmaker, clock) as turns:
        channel = turns.serve(build_telegram_channel(settings, turns.handle, None))
        chat = Chat(telegram_api, turns)
        await channel.start()
        try:
            answer = await chat.say("How long do you keep my personal data?")
            assert "privacy policy says" in answer[0]
            asked = await chat.say("Please delete my account and all my data")
            assert "email" in " ".join(asked).lower()
            sent = await chat.say(ADDRESS)
            assert "6-digit code" in " ".join(sent)
            [mail] = await smtp_server.sink.wait_for(1)
            assert mail.rcpt_tos == (ADDRESS,)
            opened = " ".join(await chat.say(extract_code(mail)))
        finally:
            await channel.stop()
    match = REFERENCE.search(opened)
    assert match is not None, opened
    assert f"<b>{match.group(0)}</b>" in opened
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Ticket)) == 1


async def test_redelivered_update_opens_no_second_ticket_after_restart(
    tmp_path: Path,
    telegram_api: FakeTelegramAPI,
    smtp_server: SmtpServer,
    core: Core,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FrozenClock,
) -> None:
    """The update carrying the code, delivered again to a restarted bot, gets no reply and opens no ticket."""
    settings = telegram_settings(
        tmp_path, telegram_api, smtp_host=smtp_server.host, smtp_port=smtp_server.port
    )
    async with conversing(core, settings, sessionmaker, clock) as turns:
        chat = Chat(telegram_api, turns)
        first = turns.serve(build_telegram_channel(settings, turns.handle, None))
        await first.start()
        try:
            await chat.say("I want my account erased")
            await chat.say(ADDRESS)
            [mail] = await smtp_server.sink.wait_for(1)
            code_update = telegram_api.message_update(CHAT, extract_code(mail))
            await handled(telegram_api, telegram_api.queue_update(dict(code_update)))
            await drained(turns.outbox)
        finally:
            await first.stop()
    replies = len(telegram_api.calls_of("sendMessage"))

    async with conversing(core, settings, sessionmaker, clock) as turns:  # a restarted bot
        chat = Chat(telegram_api, turns)
        second = turns.serve(build_telegram_channel(settings, turns.handle, None))
        await second.start()
        try:
            telegram_api.queue_update(dict(code_update))
            await chat.say("/help")
        finally:
            await second.stop()
    assert len(telegram_api.calls_of("sendMessage")) == replies + 1  # only /help was answered
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Ticket)) == 1
