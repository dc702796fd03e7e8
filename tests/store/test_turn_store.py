"""The SQL turn store: conversations survive a restart, messages are kept both ways, redeliveries are seen."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.conversation.turns import TurnStoreFactory
from bot.domain.channels import ChannelName
from bot.domain.dialogue import DialogueState, Step
from bot.domain.errors import DuplicateMessage
from bot.domain.tickets import RequestKind
from bot.messages import InboundMessage, OutboundMessage
from bot.store.db import create_engine, create_sessionmaker
from bot.store.models import Message, MessageDirection
from bot.tickets.desk import sql_turn_store_factory
from responses import Responses
from tests.support.database import FrozenClock
from tests.tickets.helpers import RecordingMailSender, make_settings


def factory(sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock) -> TurnStoreFactory:
    """A turn store factory over ``sessionmaker``."""
    return sql_turn_store_factory(sessionmaker, clock, RecordingMailSender(), make_settings(), Responses())


def inbound(text: str, message_id: str | None = None, sender: str = "tg-42") -> InboundMessage:
    """A Telegram message."""
    return InboundMessage(ChannelName.TELEGRAM, sender, text, message_id=message_id, meta={"chat_id": "42"})


async def test_state_survives_a_restart(
    database_url: str, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """A conversation left waiting for a code is found in that state by a brand-new engine (a restart)."""
    state = DialogueState(
        step=Step.AWAIT_CODE,
        pending_kind=RequestKind.ERASURE,
        code_address="a@example.com",
        queued_kinds=(RequestKind.ACCESS,),
    )
    async with factory(sessionmaker, clock)() as store:
        conversation = await store.load_conversation(ChannelName.TELEGRAM, "tg-42")
        assert conversation.state == DialogueState()
        await store.record_turn(conversation, inbound("erase me", "1"), [], state)
        await store.commit()
    restarted = create_engine(database_url)
    try:
        async with factory(create_sessionmaker(restarted), clock)() as store:
            again = await store.load_conversation(ChannelName.TELEGRAM, "tg-42")
    finally:
        await restarted.dispose()
    assert again.id == conversation.id
    assert again.state == state


async def test_leaving_without_commit_rolls_the_turn_back(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """A turn that fails before commit leaves no message and no state behind."""
    with pytest.raises(RuntimeError):
        async with factory(sessionmaker, clock)() as store:
            conversation = await store.load_conversation(ChannelName.TELEGRAM, "tg-42")
            await store.record_turn(conversation, inbound("hi", "1"), [], DialogueState(misunderstood=1))
            raise RuntimeError("the action crashed")
    async with sessionmaker() as session:
        assert (await session.scalars(select(Message))).all() == []


async def test_a_failed_turn_leaves_its_conversation_free(
    database_url: str, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """A turn that fails after taking its conversation (on PostgreSQL, its lock) gives it back: the next
    turn of that conversation, from another engine (another worker), runs at once and stores."""
    with pytest.raises(RuntimeError):
        async with factory(sessionmaker, clock)() as store:
            await store.load_conversation(ChannelName.TELEGRAM, "tg-42")
            raise RuntimeError("the action crashed")
    other = create_engine(database_url)
    try:
        async with asyncio.timeout(5), factory(create_sessionmaker(other), clock)() as store:
            conversation = await store.load_conversation(ChannelName.TELEGRAM, "tg-42")
            await store.record_turn(conversation, inbound("again", "2"), [], DialogueState())
            await store.commit()
    finally:
        await other.dispose()
    async with sessionmaker() as session:
        assert [m.text for m in (await session.scalars(select(Message))).all()] == ["again"]


async def test_messages_are_stored_both_ways_in_order(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """The inbound message and every reply are kept with direction, time, ticket reference and meta."""
    async with factory(sessionmaker, clock)() as store:
        conversation = await store.load_conversation(ChannelName.TELEGRAM, "tg-42")
        replies = [
            OutboundMessage(ChannelName.TELEGRAM, "tg-42", "first"),
            OutboundMessage(ChannelName.TELEGRAM, "tg-42", "second", ticket_reference="PRV-2345-6789"),
        ]
        await store.record_turn(conversation, inbound("hello", "m1"), replies, DialogueState())
        await store.commit()
    async with sessionmaker() as session:
        rows = (await session.scalars(select(Message).order_by(Message.id))).all()
    assert [(m.direction, m.text) for m in rows] == [
        (MessageDirection.INBOUND, "hello"),
        (MessageDirection.OUTBOUND, "first"),
        (MessageDirection.OUTBOUND, "second"),
    ]
    assert rows[0].channel_message_id == "m1"
    assert rows[0].meta == {"chat_id": "42"}
    assert rows[2].ticket_reference == "PRV-2345-6789"


async def test_redelivered_message_is_recognised(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """A channel message id stored once is ``already_handled``; the same id on another channel is not."""
    async with factory(sessionmaker, clock)() as store:
        conversation = await store.load_conversation(ChannelName.TELEGRAM, "tg-42")
        await store.record_turn(conversation, inbound("hello", "update-7"), [], DialogueState())
        await store.commit()
    async with factory(sessionmaker, clock)() as store:
        assert await store.already_handled(ChannelName.TELEGRAM, "update-7")
        assert not await store.already_handled(ChannelName.EMAIL, "update-7")
        assert not await store.already_handled(ChannelName.TELEGRAM, "update-8")


async def test_racing_redelivery_hits_the_unique_constraint(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """Two turns storing the same channel message id: the second fails with DuplicateMessage."""
    async with factory(sessionmaker, clock)() as store:
        conversation = await store.load_conversation(ChannelName.TELEGRAM, "tg-42")
        await store.record_turn(conversation, inbound("hello", "update-7"), [], DialogueState())
        await store.commit()
    clock.advance(timedelta(seconds=1))
    with pytest.raises(DuplicateMessage):
        async with factory(sessionmaker, clock)() as store:
            await store.record_turn(conversation, inbound("hello", "update-7"), [], DialogueState())
            await store.commit()


async def test_one_conversation_per_person_and_channel(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """The same sender on another channel is another conversation; on the same channel, the same one."""
    async with factory(sessionmaker, clock)() as store:
        first = await store.load_conversation(ChannelName.TELEGRAM, "42")
        same = await store.load_conversation(ChannelName.TELEGRAM, "42")
        other = await store.load_conversation(ChannelName.WEB, "42")
        await store.commit()
    assert first.id == same.id != other.id


async def test_two_turns_of_one_conversation_run_one_after_the_other(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """While one turn of a conversation is open, a second turn of it waits, then starts from the state the
    first one stored (SQLite: the turn holds the write lock; PostgreSQL: the conversation row is locked)."""
    stores = factory(sessionmaker, clock)
    async with stores() as store:
        conversation = await store.load_conversation(ChannelName.TELEGRAM, "tg-42")
        await store.record_turn(conversation, inbound("hi", "1"), [], DialogueState())
        await store.commit()

    async def second_turn() -> DialogueState:
        async with stores() as store:
            return (await store.load_conversation(ChannelName.TELEGRAM, "tg-42")).state

    async with stores() as first:
        conversation = await first.load_conversation(ChannelName.TELEGRAM, "tg-42")
        waiting = asyncio.create_task(second_turn())
        await asyncio.sleep(0.3)
        assert not waiting.done()
        await first.record_turn(conversation, inbound("what?", "2"), [], DialogueState(misunderstood=1))
        await first.commit()
    assert await asyncio.wait_for(waiting, timeout=10) == DialogueState(misunderstood=1)
