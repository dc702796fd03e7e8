"""Two messages of one conversation at the same instant: both answered, in order, on one worker or two."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import Core
from bot.channels.base import HandleInbound
from bot.domain.channels import ChannelName
from bot.domain.clock import SystemClock
from bot.messages import InboundMessage
from bot.runner import one_turn_at_a_time
from bot.store.db import create_engine, create_sessionmaker
from bot.store.models import Message, MessageDirection
from bot.tickets.desk import sql_turn_store_factory
from tests.tickets.helpers import make_settings


def worker(core: Core, engine: AsyncEngine) -> HandleInbound:
    """One worker's turn handler over its own engine (SQLite: behind the process's turn lock)."""
    stores = sql_turn_store_factory(
        create_sessionmaker(engine), SystemClock(), make_settings(), core.responses
    )
    handle = core.conversation(stores).handle
    return one_turn_at_a_time(handle) if engine.dialect.name == "sqlite" else handle


async def directions(engine: AsyncEngine) -> list[tuple[MessageDirection, str]]:
    """The stored messages in history order (time, then id): direction and text of inbound ones."""
    async with create_sessionmaker(engine)() as session:
        rows = (await session.scalars(select(Message).order_by(Message.at, Message.id))).all()
    return [(row.direction, row.text if row.direction is MessageDirection.INBOUND else "") for row in rows]


@pytest.mark.parametrize("workers", [1, 2])
async def test_simultaneous_messages_read_each_followed_by_its_replies(
    core: Core, database_url: str, engine: AsyncEngine, workers: int
) -> None:
    """Both messages are answered and the history reads message, its replies, message, its replies
    (each message is timed when its turn runs). Two workers: two engines, PostgreSQL only."""
    if workers == 2 and engine.dialect.name == "sqlite":
        pytest.skip("SQLite is one process's database")
    engines = [engine] + [create_engine(database_url) for _ in range(workers - 1)]
    try:
        handlers = [worker(core, e) for e in engines]
        texts = ["What data do you collect about me?", "How long do you keep my data?"]
        results = await asyncio.gather(
            *(
                handlers[i % workers](
                    InboundMessage(ChannelName.WEB, "same-session", text, message_id=f"m{i}")
                )
                for i, text in enumerate(texts)
            )
        )
        assert all(result.replies and not result.duplicate for result in results)
        stored = await directions(engine)
    finally:
        for extra in engines[1:]:
            await extra.dispose()
    inbound_positions = [
        i for i, (direction, _) in enumerate(stored) if direction is MessageDirection.INBOUND
    ]
    assert len(inbound_positions) == 2
    first, second = inbound_positions
    between, after = stored[first + 1 : second], stored[second + 1 :]
    assert between and after, stored
    assert all(direction is MessageDirection.OUTBOUND for direction, _ in between + after), stored
    assert len(between) + len(after) == sum(len(result.replies) for result in results)
