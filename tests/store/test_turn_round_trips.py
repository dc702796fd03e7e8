"""A leaner turn: the statements an ordinary question turn sends, counted as SQLAlchemy echoes them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import Core
from bot.domain.channels import ChannelName
from bot.domain.clock import SystemClock
from bot.messages import InboundMessage
from bot.store.db import create_sessionmaker
from bot.tickets.desk import sql_turn_store_factory
from tests.tickets.helpers import make_settings


class EchoCounter:
    """Counts what SQLAlchemy would echo: each statement sent, each BEGIN and each COMMIT."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.statements: list[str] = []
        self.begins = 0
        self.commits = 0
        sync = engine.sync_engine
        event.listen(sync, "before_cursor_execute", self._statement)
        event.listen(sync, "begin", self._begin)
        event.listen(sync, "commit", self._commit)

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.statements.append(statement.split(None, 1)[0].upper())

    def _begin(self, _conn: Any) -> None:
        self.begins += 1

    def _commit(self, _conn: Any) -> None:
        self.commits += 1

    def reset(self) -> None:
        self.statements.clear()
        self.begins = self.commits = 0


async def test_question_turn_sends_lock_read_write_and_commits(core: Core, engine: AsyncEngine) -> None:
    """A question in a known conversation: PostgreSQL gets three statements (the turn lock; the locked read
    of the state with the duplicate check; the messages and state in one write) and one commit. SQLite:
    BEGIN IMMEDIATE, the read, the INSERT and the UPDATE, one commit."""
    stores = sql_turn_store_factory(
        create_sessionmaker(engine), SystemClock(), make_settings(), core.responses
    )
    handle = core.conversation(stores).handle
    await handle(InboundMessage(ChannelName.WEB, "rt-session", "hi", message_id="rt-1"))
    counter = EchoCounter(engine)
    result = await handle(
        InboundMessage(ChannelName.WEB, "rt-session", "How long do you keep my data?", message_id="rt-2")
    )
    assert result.replies and not result.duplicate
    if engine.dialect.name == "postgresql":
        assert counter.statements == ["SELECT", "SELECT", "WITH"]
    else:
        assert counter.statements == ["BEGIN", "SELECT", "INSERT", "UPDATE"]
    assert counter.commits == 1
    counter.reset()
    again = await handle(InboundMessage(ChannelName.WEB, "rt-session", "How long?", message_id="rt-2"))
    assert again.duplicate and counter.commits == 0
