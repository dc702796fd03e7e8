"""The turn stores: :class:`SqlTurnStore` over an ORM session (SQLite, and any database), and what it shares
with the PostgreSQL one (``bot.store.pg_turns``): the rows a turn stores and the replies a retry gets back.

`bot.tickets.desk.sql_turn_store_factory` opens one per turn with the desk built over the turn's session.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.channels import ChannelName
from bot.domain.clock import Clock
from bot.domain.dialogue import ConversationRecord, DialogueState
from bot.domain.errors import DuplicateMessage
from bot.domain.tickets import RequestDesk
from bot.messages import InboundMessage, OutboundMessage, QuickReply
from bot.store.conversations import ConversationRepository, NewMessage
from bot.store.db import conversation_lock_key, lock_for_transaction
from bot.store.models import Conversation, MessageDirection

# The quick replies of a stored reply, ``payload<TAB>label`` one per line, in its meta (a retry shows them).
QUICK_REPLIES_META = "quick_replies"

OpenSession = Callable[[], Awaitable[AsyncSession]]


def new_conversation_id() -> str:
    """The id of a conversation created on first contact."""
    return uuid.uuid4().hex


def turn_messages(
    inbound: InboundMessage, replies: Sequence[OutboundMessage], *, started: datetime, now: datetime
) -> list[NewMessage]:
    """What a turn stores, in order: the inbound message, timed when its turn began (so the history reads
    each message followed by its own replies even when two arrived at once), then its replies."""
    return [
        NewMessage(
            direction=MessageDirection.INBOUND,
            channel=inbound.channel,
            text=inbound.text,
            at=started,
            channel_message_id=inbound.message_id,
            meta=dict(inbound.meta) if inbound.meta else None,
        ),
        *(
            NewMessage(
                direction=MessageDirection.OUTBOUND,
                channel=reply.channel,
                text=reply.text,
                at=now,
                ticket_reference=reply.ticket_reference,
                meta={
                    **reply.meta,
                    QUICK_REPLIES_META: "\n".join(f"{q.payload}\t{q.label}" for q in reply.quick_replies),
                }
                if reply.quick_replies
                else dict(reply.meta) or None,
                in_reply_to=inbound.message_id,
            )
            for reply in replies
        ),
    ]


@dataclass(frozen=True)
class StoredReply:
    """A reply row as a retry reads it back."""

    channel: ChannelName
    text: str
    ticket_reference: str | None
    meta: Mapping[str, Any] | None


def replies_of(rows: Iterable[StoredReply], *, recipient: str) -> tuple[OutboundMessage, ...]:
    """The stored replies of a turn as the messages the turn answered (quick replies included)."""
    return tuple(
        OutboundMessage(
            channel=row.channel,
            recipient_id=recipient,
            text=row.text,
            quick_replies=tuple(
                QuickReply(*choice.split("\t", 1))
                for choice in str((row.meta or {}).get(QUICK_REPLIES_META, "")).split("\n")
                if "\t" in choice
            ),
            ticket_reference=row.ticket_reference,
            meta={k: str(v) for k, v in (row.meta or {}).items() if k != QUICK_REPLIES_META},
        )
        for row in rows
    )


def given_session(session: AsyncSession) -> OpenSession:
    """A session source that always gives ``session`` (the desk of a store that has its session at once)."""

    async def open_session() -> AsyncSession:
        return session

    return open_session


class SqlTurnStore:
    """One turn's unit of work (implements ``bot.conversation.turns.TurnStore``)."""

    def __init__(
        self,
        session: AsyncSession,
        *,
        clock: Clock,
        desk: Callable[[OpenSession], RequestDesk] | None,
    ) -> None:
        """Bind to ``session``; ``desk`` builds the desk over it."""
        self._session = session
        self._clock = clock
        self._desk = desk(given_session(session)) if desk is not None else None
        self._conversations = ConversationRepository(session)
        self._extra: list[tuple[Table, list[dict[str, Any]]]] = []
        self._loaded: dict[str, Conversation] = {}
        self._started: datetime | None = None
        self._handled: dict[tuple[ChannelName, str], bool] = {}

    @property
    def desk(self) -> RequestDesk | None:
        """Tickets and verification, in this turn's transaction."""
        return self._desk

    async def load_conversation(
        self, channel: ChannelName, sender_id: str, message_id: str | None = None
    ) -> ConversationRecord:
        """The conversation of this person on this channel, created on first contact.

        First the turn takes the conversation's lock (held to its commit), so turns of one conversation run
        one at a time on every worker; the turn's time starts once it holds it. The same query tells
        whether ``message_id`` was stored before (see :meth:`already_handled`)."""
        await lock_for_transaction(self._session, conversation_lock_key(channel, sender_id))
        now = self._started = self._clock.now()
        row, handled = await self._conversations.load_for_turn(
            channel=channel, sender_id=sender_id, channel_message_id=message_id, now=now
        )
        self._loaded[row.id] = row  # kept, so record_turn finds it in the session without a query
        if message_id is not None:
            self._handled[(channel, message_id)] = handled
        return ConversationRecord(row.id, row.channel, row.sender_id, DialogueState.from_json(row.state))

    async def already_handled(self, channel: ChannelName, message_id: str) -> bool:
        """True when an inbound message with this channel message id was stored before (known without a
        query when load_conversation was given it)."""
        known = self._handled.get((channel, message_id))
        if known is not None:
            return known
        return await self._conversations.has_message(channel=channel, channel_message_id=message_id)

    async def record_turn(
        self,
        conversation: ConversationRecord,
        inbound: InboundMessage,
        replies: Sequence[OutboundMessage],
        state: DialogueState,
    ) -> None:
        """Store the inbound message, the replies and the new state (raises DuplicateMessage on a race).

        After whatever the desk left pending and the rows given to :meth:`add_rows`: the INSERT of all the
        messages (the inbound one first), then the conversation's UPDATE."""
        now = self._clock.now()
        messages = turn_messages(inbound, replies, started=self._started or now, now=now)
        try:
            await self._session.flush()  # whatever the desk left pending (nothing on a question turn)
            for table, rows in self._extra:
                await self._session.execute(insert(table), rows)
            self._extra.clear()
            row = self._loaded.get(conversation.id) or await self._session.get(Conversation, conversation.id)
            if row is None:
                raise LookupError(f"no conversation {conversation.id}")
            await self._conversations.write_turn(
                conversation=row,
                messages=messages,
                state=state.to_json(),
                now=now,
                thread_meta=inbound.meta,
            )
        except IntegrityError as exc:
            if inbound.message_id and "channel_message_id" in str(exc.orig).lower():
                raise DuplicateMessage(inbound.channel, inbound.message_id) from exc
            raise

    def add_rows(self, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
        """Store ``rows`` in ``table`` with the turn (inserted by :meth:`record_turn`, in its
        transaction)."""
        if rows:
            self._extra.append((table, [dict(row) for row in rows]))

    async def replies_to(self, channel: ChannelName, message_id: str) -> tuple[OutboundMessage, ...]:
        """The replies the turn of this inbound message stored, to give a retry the same answer."""
        rows = await self._conversations.replies_to(channel=channel, channel_message_id=message_id)
        if not rows:
            return ()
        conversation = await self._conversations.get(conversation_id=rows[0].conversation_id)
        stored = [StoredReply(row.channel, row.text, row.ticket_reference, row.meta) for row in rows]
        return replies_of(stored, recipient=conversation.sender_id if conversation is not None else "")

    async def commit(self) -> None:
        """Make the turn durable."""
        await self._session.commit()
