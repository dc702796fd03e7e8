"""The web history: an officer's message to a web session that never wrote lands in the conversation its first
turn then uses, and the history reads back every message of that conversation in order."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.web.api import Author
from bot.channels.web.history import SqlWebHistory
from bot.domain.channels import ChannelName
from bot.domain.clock import SystemClock
from bot.domain.dialogue import DialogueState
from bot.messages import InboundMessage, OutboundMessage
from bot.store.models import Conversation
from bot.tickets.desk import sql_turn_store_factory
from responses import Responses
from tests.tickets.helpers import make_settings


def officer_message(session_id: str, text: str) -> OutboundMessage:
    """A message for web session ``session_id`` sent outside a turn."""
    return OutboundMessage(ChannelName.WEB, session_id, text, ticket_reference="PRV-2345-6789")


async def test_appended_message_and_later_turn_share_one_conversation(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """A message kept for a new web session creates the conversation the session's first turn then loads."""
    history = SqlWebHistory(sessionmaker)
    await history.append(officer_message("web-new", "Your ticket is in progress."))
    clock = SystemClock()  # the history stamps with the real time too
    stores = sql_turn_store_factory(sessionmaker, clock, make_settings(), Responses())
    async with stores() as store:
        record = await store.load_conversation(ChannelName.WEB, "web-new")
        inbound = InboundMessage(ChannelName.WEB, "web-new", "thanks", received_at=clock.now())
        await store.record_turn(record, inbound, [], DialogueState())
        await store.commit()
    async with sessionmaker() as session:
        count = await session.scalar(
            select(func.count()).select_from(Conversation).where(Conversation.sender_id == "web-new")
        )
    assert count == 1
    messages = await history.messages("web-new")
    assert [(m.author, m.text) for m in messages] == [
        (Author.ASSISTANT, "Your ticket is in progress."),
        (Author.PERSON, "thanks"),
    ]
    assert messages[0].ticket_reference == "PRV-2345-6789"


async def test_simultaneous_appends_to_a_new_session_make_one_conversation(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Two messages kept at once for a session without a conversation share one conversation, both kept."""
    history = SqlWebHistory(sessionmaker)
    await asyncio.gather(
        history.append(officer_message("web-race", "first")),
        history.append(officer_message("web-race", "second")),
    )
    async with sessionmaker() as session:
        count = await session.scalar(
            select(func.count()).select_from(Conversation).where(Conversation.sender_id == "web-race")
        )
    assert count == 1
    assert sorted(m.text for m in await history.messages("web-race")) == ["first", "second"]
