"""The TurnStore on PostgreSQL: an ordinary question turn is two statements, sent straight on asyncpg.

1. **Read**: the turn lock, the conversation's state and whether the message was stored before, in one
   SELECT. The lock is PostgreSQL's session-level advisory lock on the conversation (the key
   :func:`bot.store.db.conversation_lock_key` names, the one officers' writes take per transaction), taken
   first in the statement; the conversation row is read ``FOR NO KEY UPDATE`` so that, in READ COMMITTED,
   it is the newest version even when the statement's snapshot predates the turn it waited for.
2. **Write**: the inbound message, the replies (in this order), any rows added with :meth:`add_rows` and
   the new state, in one statement (INSERTs in CTEs of the conversation's UPDATE), which also swaps the
   session lock for a transaction-level one (released when that statement commits, never before).

The two run outside a transaction block (the connection autocommits: no BEGIN, no COMMIT), which is safe
because each is one atomic statement and the lock spans both. A turn that uses the desk (tickets, codes)
sends BEGIN first, and its whole work then commits with COMMIT. What a turn holds when it fails is undone
in :meth:`PgTurnStore.close`; a connection that cannot be cleaned is discarded, which ends its locks.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from asyncpg import Connection as AsyncpgConnection
from asyncpg import InterfaceError, PostgresError, UniqueViolationError
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot.domain.channels import ChannelName
from bot.domain.clock import Clock
from bot.domain.dialogue import ConversationRecord, DialogueState
from bot.domain.errors import DuplicateMessage
from bot.domain.tickets import RequestDesk
from bot.messages import InboundMessage, OutboundMessage
from bot.store.db import conversation_lock_key
from bot.store.models import MessageDirection
from bot.store.turns import OpenSession, StoredReply, new_conversation_id, replies_of, turn_messages

log = logging.getLogger(__name__)

MESSAGE_ID_CONSTRAINT = "uq_messages_channel_message_id"
_MESSAGE_COLUMNS = (
    "direction",
    "channel",
    "channel_message_id",
    "text",
    "at",
    "ticket_reference",
    "meta",
    "in_reply_to",
)

# $1 lock key, $2 channel, $3 sender id, $4 the inbound message's channel id (NULL: none).
_READ = """
SELECT c.id, c.state, c.thread_meta,
       EXISTS (SELECT 1 FROM messages WHERE channel = $2 AND channel_message_id = $4) AS handled
FROM (SELECT pg_advisory_lock(hashtextextended($1, 0))) AS turn_lock
LEFT JOIN LATERAL (
    SELECT id, state, thread_meta FROM conversations WHERE channel = $2 AND sender_id = $3 FOR NO KEY UPDATE
) AS c ON true
"""
# First contact (the lock is held): $1 id, $2 channel, $3 sender id, $4 now.
_CREATE = """
INSERT INTO conversations (id, channel, sender_id, state, created_at, updated_at)
VALUES ($1, $2, $3, '{}'::jsonb, $4, $4)
ON CONFLICT (channel, sender_id) DO NOTHING
RETURNING id, state, thread_meta
"""
_REREAD = "SELECT id, state, thread_meta FROM conversations WHERE channel = $1 AND sender_id = $2"
_HANDLED = "SELECT EXISTS (SELECT 1 FROM messages WHERE channel = $1 AND channel_message_id = $2)"
_REPLIES = """
SELECT m.channel, m.text, m.ticket_reference, m.meta, c.sender_id
FROM messages AS m JOIN conversations AS c ON c.id = m.conversation_id
WHERE m.channel = $1 AND m.in_reply_to = $2 AND m.direction = $3
ORDER BY m.id
"""
_RELEASE = "SELECT pg_advisory_unlock_all()"
# $1 conversation id, $2 the messages (a JSON array), $3 state, $4 thread details (NULL: unchanged),
# $5 now, $6 lock key; {extra} is one CTE per table given to add_rows, their parameters from $7 on.
_WRITE = """
WITH stored_messages AS (
    INSERT INTO messages (conversation_id, {columns})
    SELECT $1, {row_columns} FROM jsonb_populate_recordset(NULL::messages, $2::jsonb) WITH ORDINALITY AS r
    ORDER BY r.ordinality
){extra}
UPDATE conversations SET state = $3::jsonb, thread_meta = coalesce($4::jsonb, thread_meta), updated_at = $5
WHERE id = $1
RETURNING CASE WHEN pg_try_advisory_xact_lock(hashtextextended($6, 0))
          THEN pg_advisory_unlock(hashtextextended($6, 0)) END AS released
"""
_EXTRA = """,
extra_{n} AS (
    INSERT INTO {table} ({columns})
    SELECT {columns} FROM jsonb_populate_recordset(NULL::{table}, ${param}::jsonb)
)"""


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _json_default(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def _dumps(value: object) -> str:
    return json.dumps(value, default=_json_default, separators=(",", ":"))


def _document(value: object) -> dict[str, Any] | None:
    """A JSONB value as read (decoded by the engine's codec, or text on a bare connection)."""
    if isinstance(value, str):
        value = json.loads(value)
    return dict(value) if isinstance(value, Mapping) else None


@dataclass(frozen=True)
class _Write:
    """A turn's one write, made by record_turn and sent by commit."""

    statement: str
    params: tuple[Any, ...]
    channel: ChannelName
    message_id: str | None
    conversation_id: str


class PgTurnStore:
    """One turn's unit of work on one pooled connection (implements ``bot.conversation.turns.TurnStore``)."""

    def __init__(
        self,
        connection: AsyncConnection,
        driver: AsyncpgConnection,
        *,
        clock: Clock,
        desk: Callable[[OpenSession], RequestDesk] | None,
    ) -> None:
        """Run on ``connection`` (autocommitting) through its asyncpg ``driver``; ``desk`` builds the desk
        over a session that is opened, in this turn's transaction, when the desk is first used."""
        self._connection = connection
        self._driver = driver
        self._clock = clock
        self._desk = desk(self.writing_session) if desk is not None else None
        self._session: AsyncSession | None = None
        self._locks_held = 0  # times this connection took the turn lock (each taking needs its release)
        self._in_transaction = False
        self._started: datetime | None = None
        self._thread_meta: dict[str, dict[str, Any] | None] = {}
        self._handled: dict[tuple[ChannelName, str], bool] = {}
        self._extra: list[tuple[Table, list[dict[str, Any]]]] = []
        self._write: _Write | None = None

    @property
    def desk(self) -> RequestDesk | None:
        """Tickets and verification, in this turn's transaction (begun when first used)."""
        return self._desk

    async def writing_session(self) -> AsyncSession:
        """The ORM session of this turn's transaction: BEGIN is sent on first use."""
        if self._session is None:
            if not self._in_transaction:
                await self._driver.execute("BEGIN")
                self._in_transaction = True
            self._session = AsyncSession(bind=self._connection, expire_on_commit=False)
        return self._session

    async def load_conversation(
        self, channel: ChannelName, sender_id: str, message_id: str | None = None
    ) -> ConversationRecord:
        """Take the turn lock and read the conversation (created on first contact) and whether
        ``message_id`` was stored before, in one statement."""
        key = conversation_lock_key(channel, sender_id)
        self._locks_held += 1  # counted before it is asked: a read cut short may still have taken it
        row = await self._driver.fetchrow(_READ, key, channel.value, sender_id, message_id)
        now = self._started = self._clock.now()
        handled = bool(row is not None and row["handled"])
        if row is None or row["id"] is None:
            params = (new_conversation_id(), channel.value, sender_id, now)
            row = await self._driver.fetchrow(_CREATE, *params) or await self._driver.fetchrow(
                _REREAD, channel.value, sender_id
            )
        if row is None:
            raise LookupError("the conversation vanished while its turn held the lock")
        if message_id is not None:
            self._handled[(channel, message_id)] = handled
        self._thread_meta[row["id"]] = _document(row["thread_meta"])
        state = DialogueState.from_json(_document(row["state"]))
        return ConversationRecord(row["id"], channel, sender_id, state)

    async def already_handled(self, channel: ChannelName, message_id: str) -> bool:
        """True when an inbound message with this channel message id was stored before (known without a
        query when load_conversation was given it)."""
        known = self._handled.get((channel, message_id))
        if known is not None:
            return known
        return bool(await self._driver.fetchval(_HANDLED, channel.value, message_id))

    def add_rows(self, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
        """Store ``rows`` in ``table`` with the turn: written by the turn's one statement, so
        they commit with the messages and the state or not at all (columns not given take their
        defaults; every row of one call names the same columns). Before :meth:`record_turn`."""
        if rows:
            self._extra.append((table, [dict(row) for row in rows]))

    async def record_turn(
        self,
        conversation: ConversationRecord,
        inbound: InboundMessage,
        replies: Sequence[OutboundMessage],
        state: DialogueState,
    ) -> None:
        """Make the statement that stores the inbound message, the replies, the added rows and the new
        state; :meth:`commit` sends it (and raises DuplicateMessage when the message id was stored
        meanwhile), so a turn left without commit stores nothing."""
        now = self._clock.now()
        messages = [
            {column: getattr(message, column) for column in _MESSAGE_COLUMNS}
            for message in turn_messages(inbound, replies, started=self._started or now, now=now)
        ]
        thread_meta = None
        if inbound.meta:
            stored = self._thread_meta.get(conversation.id) or {}
            thread_meta = _dumps({**stored, **inbound.meta})
        extra_sql, extra_params = self._extra_rows()
        self._extra.clear()
        statement = _WRITE.format(
            columns=", ".join(_MESSAGE_COLUMNS),
            row_columns=", ".join(f"r.{column}" for column in _MESSAGE_COLUMNS),
            extra=extra_sql,
        )
        params = (
            conversation.id,
            _dumps(messages),
            _dumps(state.to_json()),
            thread_meta,
            now,
            conversation_lock_key(conversation.channel, conversation.sender_id),
            *extra_params,
        )
        self._write = _Write(statement, params, inbound.channel, inbound.message_id, conversation.id)

    def _extra_rows(self) -> tuple[str, list[str]]:
        sql: list[str] = []
        params: list[str] = []
        for n, (table, rows) in enumerate(self._extra):
            columns = ", ".join(_quoted(name) for name in rows[0])
            sql.append(_EXTRA.format(n=n, table=_quoted(table.name), columns=columns, param=7 + n))
            params.append(_dumps(rows))
        return "".join(sql), params

    async def replies_to(self, channel: ChannelName, message_id: str) -> tuple[OutboundMessage, ...]:
        """The replies the turn of this inbound message stored, to give a retry the same answer."""
        rows = await self._driver.fetch(_REPLIES, channel.value, message_id, MessageDirection.OUTBOUND.value)
        stored = [
            StoredReply(ChannelName(r["channel"]), r["text"], r["ticket_reference"], _document(r["meta"]))
            for r in rows
        ]
        return replies_of(stored, recipient=rows[0]["sender_id"] if rows else "")

    async def commit(self) -> None:
        """Make the turn durable: its one write (which commits by itself), or, when the turn used the
        desk, the write and COMMIT."""
        if self._session is not None:
            await self._session.flush()  # whatever the desk left pending, in this turn's transaction
        write, self._write = self._write, None
        if write is not None:
            await self._send(write)
        if self._in_transaction:
            await self._driver.execute("COMMIT")
            self._in_transaction = False

    async def _send(self, write: _Write) -> None:
        try:
            row = await self._driver.fetchrow(write.statement, *write.params)
        except UniqueViolationError as exc:
            if write.message_id and exc.constraint_name == MESSAGE_ID_CONSTRAINT:
                raise DuplicateMessage(write.channel, write.message_id) from exc
            raise
        if row is None:
            raise LookupError(f"no conversation {write.conversation_id}")
        if row["released"]:
            self._locks_held -= 1

    async def close(self) -> None:
        """Undo what an unfinished turn holds: its transaction, then its lock. A connection that cannot be
        cleaned is discarded (closing it ends both)."""
        try:
            if self._session is not None:
                await self._session.close()
            if self._in_transaction:
                await self._driver.execute("ROLLBACK")
                self._in_transaction = False
            if self._locks_held:
                await self._driver.execute(_RELEASE)
                self._locks_held = 0
        except (PostgresError, InterfaceError, OSError) as exc:
            log.warning("turn connection discarded, it could not be cleaned: %s", type(exc).__name__)
            await self._connection.invalidate()
        except BaseException:  # cancelled while cleaning: nothing this connection holds may outlive it
            await self._connection.invalidate()
            raise
