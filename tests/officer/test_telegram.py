"""The officer chat on the Telegram channel's own bot (Bot API stand-in, real store): a Telegram user asks
for a human, the officer chat is notified, replying to the notification answers the person, Take assigns
and End handoff gives the person back to the assistant."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import Core
from bot.channels.telegram import TelegramChannel, build_telegram_channel
from bot.channels.telegram.officer_router import AiogramOfficerChat, register_officer_chat
from bot.deliveries import Deliveries
from bot.officer.alerts import AlertFeed
from bot.officer.notifications import OfficerNotifications
from tests.officer.conftest import Workspace, build_workspace
from tests.support.core import make_settings
from tests.support.database import FrozenClock
from tests.support.telegram_api import BOT_TOKEN, FakeTelegramAPI

OFFICER_CHAT = -100777
PERSON = 555


@dataclass
class OfficerTelegram:
    """The running channel with the officer chat attached, and the alert feed that posts to it."""

    workspace: Workspace
    channel: TelegramChannel
    feed: AlertFeed
    api: FakeTelegramAPI

    async def person_says(self, text: str, replies: int = 1) -> None:
        """The person writes in their private chat; wait for the bot's ``replies`` (0: a short pause)."""
        await _after(self.api, self.api.message_update(PERSON, text), replies)

    def officer_update(self, text: str, reply_to: dict[str, Any] | None) -> dict[str, Any]:
        """A message of officer 9 in the officer group, optionally replying to ``reply_to``."""
        update = self.api.message_update(OFFICER_CHAT, text, user_id=9, chat_type="supergroup")
        if reply_to is not None:
            update["message"]["reply_to_message"] = reply_to
        return update


async def _after(api: FakeTelegramAPI, update: dict[str, Any], sends: int) -> None:
    """Queue ``update`` and wait for ``sends`` more sendMessage calls (none expected: half a second)."""
    before = len(api.calls_of("sendMessage"))
    api.queue_update(update)
    if sends:
        await api.wait_for_calls("sendMessage", before + sends)
    else:
        await asyncio.sleep(0.5)


@pytest_asyncio.fixture
async def officer_telegram(
    tmp_path: Path,
    core: Core,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FrozenClock,
    telegram_api: FakeTelegramAPI,
) -> AsyncIterator[OfficerTelegram]:
    """The Telegram channel (polling the stand-in) over the real store, with the officer chat registered."""
    deliveries = Deliveries()
    workspace = build_workspace(core, sessionmaker, clock, deliveries)
    settings = make_settings(tmp_path, telegram_token=BOT_TOKEN, telegram_api_base=telegram_api.base_url)
    channel = build_telegram_channel(settings, workspace.conversation.handle, None)
    assert isinstance(channel, TelegramChannel)
    deliveries.register(channel)
    register_officer_chat(
        channel.dispatcher, chat_id=OFFICER_CHAT, desk=workspace.desk, responses=core.responses
    )
    notifications = OfficerNotifications(
        core.responses,
        mail=None,
        officer_email=None,
        mail_from="x@y.test",
        chat=AiogramOfficerChat(channel.bot, OFFICER_CHAT),
        public_url=None,
    )
    feed = AlertFeed(sessionmaker, sink=notifications, clock=clock)
    telegram_api.chat(OFFICER_CHAT, "supergroup")
    await channel.start()
    try:
        yield OfficerTelegram(workspace, channel, feed, telegram_api)
    finally:
        await channel.stop()


async def test_reply_to_a_notification_reaches_the_person_and_end_handoff_hands_back(
    officer_telegram: OfficerTelegram,
) -> None:
    """/human from a Telegram user notifies the officer chat; the person's next message is posted there;
    the officer's reply to it is sent to the person; Take assigns; End handoff tells the person."""
    api = officer_telegram.api
    await officer_telegram.person_says("/human")
    started = api.sent_messages(PERSON)[-1]["text"]
    assert "PRV-" in started
    await officer_telegram.feed.poll_once()
    await officer_telegram.person_says("Someone changed my password", replies=0)
    assert len(api.sent_messages(PERSON)) == 1  # relayed, not answered by the bot
    await officer_telegram.feed.poll_once()
    posted = api.sent_messages(OFFICER_CHAT)
    assert len(posted) == 2 and "Someone changed my password" in posted[1]["text"]
    reference = posted[1]["reply_markup"]["inline_keyboard"][0][0]["callback_data"].split(":")[-1]

    await _after(api, officer_telegram.officer_update("We reset it; check your mail.", posted[1]), 2)
    to_person = api.sent_messages(PERSON)[-1]["text"]
    assert "We reset it; check your mail." in to_person
    assert "Sent to the requester" in api.sent_messages(OFFICER_CHAT)[-1]["text"]
    page = await officer_telegram.workspace.desk.page(reference)
    assert page is not None and page.item.ticket.first_response_at is not None

    await _after(
        api,
        api.callback_update(OFFICER_CHAT, f"officer:take:{reference}", posted[1]["message_id"], user_id=9),
        1,
    )
    page = await officer_telegram.workspace.desk.page(reference)
    assert page is not None and page.item.ticket.assignee == "User9"

    await _after(
        api,
        api.callback_update(OFFICER_CHAT, f"officer:end:{reference}", posted[1]["message_id"], user_id=9),
        2,
    )
    assert "assistant again" in api.sent_messages(PERSON)[-1]["text"]
    page = await officer_telegram.workspace.desk.page(reference)
    assert page is not None and not page.handoff_active
    answered = len(api.sent_messages(PERSON))
    await officer_telegram.person_says("How long do you keep my data?")
    assert len(api.sent_messages(PERSON)) > answered  # the assistant answers again


async def test_officer_talk_in_the_group_gets_no_answer(officer_telegram: OfficerTelegram) -> None:
    """Officers chatting in their group are not told to "write privately"; a reply to something that is not
    a notification gets a short hint."""
    api = officer_telegram.api
    await _after(api, officer_telegram.officer_update("lunch?", None), 0)
    assert api.sent_messages(OFFICER_CHAT) == []
    not_ours = {
        "message_id": 99,
        "date": 0,
        "chat": api.chat(OFFICER_CHAT, "supergroup"),
        "from": api.user(10),
        "text": "hello",
    }
    await _after(api, officer_telegram.officer_update("re", not_ours), 1)
    assert "reply" in api.sent_messages(OFFICER_CHAT)[-1]["text"].lower()
