"""A leaner turn: the database round trips of an ordinary web question turn.

On PostgreSQL they are counted on the wire, by a relay between the engine and the server (every BEGIN,
COMMIT, prepare and lock would show); on SQLite, which has no wire, the statements SQLAlchemy sends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import Core
from bot.channels.base import HandleInbound
from bot.domain.channels import ChannelName
from bot.domain.clock import SystemClock
from bot.domain.errors import DuplicateMessage
from bot.messages import InboundMessage
from bot.store.db import create_engine, create_sessionmaker
from bot.store.models import Lease, Message
from bot.tickets.desk import sql_turn_store_factory
from tests.support.database import PG_HOST, PG_PORT
from tests.support.wire import RoundTripRelay
from tests.tickets.helpers import RecordingMailSender, make_settings

QUESTION = "How long do you keep my data?"


class EchoCounter:
    """Counts what SQLAlchemy would echo: each statement sent and each COMMIT."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.statements: list[str] = []
        self.commits = 0
        sync = engine.sync_engine
        event.listen(sync, "before_cursor_execute", self._statement)
        event.listen(sync, "commit", self._commit)

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.statements.append(statement.split(None, 1)[0].upper())

    def _commit(self, _conn: Any) -> None:
        self.commits += 1


@pytest.fixture
async def relayed(
    database_url: str, engine: AsyncEngine
) -> AsyncIterator[tuple[AsyncEngine, RoundTripRelay]]:
    """An engine on the migrated test database reaching PostgreSQL through a counting relay."""
    if engine.dialect.name != "postgresql":
        pytest.skip("round trips are PostgreSQL's (SQLite has no wire)")
    relay = RoundTripRelay(PG_HOST, PG_PORT)
    async with relay.running():
        through = create_engine(make_url(database_url).set(port=relay.port))
        try:
            yield through, relay
        finally:
            await through.dispose()


def web_turns(core: Core, engine: AsyncEngine) -> HandleInbound:
    """The conversation's turn handler over ``engine``."""
    stores = sql_turn_store_factory(
        create_sessionmaker(engine), SystemClock(), RecordingMailSender(), make_settings(), core.responses
    )
    return core.conversation(stores).handle


def web(text: str, message_id: str) -> InboundMessage:
    """A web chat message of one session."""
    return InboundMessage(ChannelName.WEB, "rt-session", text, message_id=message_id)


async def test_question_turn_is_two_round_trips_on_postgresql(
    core: Core, relayed: tuple[AsyncEngine, RoundTripRelay]
) -> None:
    """A question in a known conversation costs two round trips on the wire (the locked read with the
    duplicate check; the one write of message, replies and state, which commits by itself): no BEGIN,
    COMMIT or separate lock. Its retry: the read, the stored replies and the lock's release."""
    engine, relay = relayed
    handle = web_turns(core, engine)
    await handle(web("hi", "rt-1"))  # first contact, and every statement prepared on the connection
    await handle(web("what data do you collect?", "rt-2"))
    await handle(web("what data do you collect?", "rt-2"))  # a retry, preparing its statements too
    relay.round_trips = 0
    result = await handle(web(QUESTION, "rt-3"))
    assert result.replies and not result.duplicate
    assert relay.round_trips == 2
    relay.round_trips = 0
    again = await handle(web(QUESTION, "rt-3"))
    assert again.duplicate and [r.text for r in again.replies] == [r.text for r in result.replies]
    assert relay.round_trips == 3


async def test_question_turn_statements_on_sqlite(core: Core, engine: AsyncEngine) -> None:
    """SQLite keeps the ORM path: BEGIN IMMEDIATE, the read, the INSERT and the UPDATE, one commit; a retry
    commits nothing."""
    if engine.dialect.name != "sqlite":
        pytest.skip("the ORM path's statements are SQLite's")
    handle = web_turns(core, engine)
    await handle(web("hi", "rt-1"))
    counter = EchoCounter(engine)
    result = await handle(web(QUESTION, "rt-2"))
    assert result.replies and not result.duplicate
    assert counter.statements == ["BEGIN", "SELECT", "INSERT", "UPDATE"]
    assert counter.commits == 1
    counter.commits = 0
    again = await handle(web("How long?", "rt-2"))
    assert again.duplicate and counter.commits == 0


async def test_rows_added_to_a_turn_commit_with_it_or_not_at_all(core: Core, engine: AsyncEngine) -> None:
    """Rows given to the turn store with ``add_rows`` are stored by the turn's one write: kept when it
    commits, gone when the same message id was stored meanwhile (the turn raised instead)."""
    stores = sql_turn_store_factory(
        create_sessionmaker(engine), SystemClock(), RecordingMailSender(), make_settings(), core.responses
    )
    until = datetime.now(UTC) + timedelta(minutes=5)

    async def turn(name: str) -> None:
        async with stores() as store:
            conversation = await store.load_conversation(ChannelName.WEB, "rows-session")
            store.add_rows(Lease.__table__, [{"name": name, "holder": "turn", "expires_at": until}])
            await store.record_turn(conversation, web("hello", "add-1"), (), conversation.state)
            await store.commit()

    await turn("kept")
    with pytest.raises(DuplicateMessage):
        await turn("dropped")
    async with create_sessionmaker(engine)() as session:
        names = (await session.scalars(select(Lease.name))).all()
        inbound_rows = (
            await session.scalars(select(Message.id).where(Message.channel_message_id == "add-1"))
        ).all()
    assert names == ["kept"]
    assert len(inbound_rows) == 1
