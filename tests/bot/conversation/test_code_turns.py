"""Whole turns over the SQL store while a code is awaited: what the transcript keeps, what is said."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import Core
from bot.conversation.engine import Conversation
from bot.identity.codes import CodePolicy
from bot.messages import ChannelName, InboundMessage
from bot.store.models import Message, MessageDirection
from bot.tickets.desk import sql_turn_store_factory
from responses import Responses
from tests.support.database import FrozenClock
from tests.support.outbox import mail_outbox
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
