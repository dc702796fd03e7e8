"""Conversations and their messages: the repository the turn store, the web history and the officer use."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, exists, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.channels import ChannelName
from bot.store.db import conversation_lock_key, dialect_insert, is_postgres, lock_for_transaction
from bot.store.models import Conversation, Message, MessageDirection

# Every turn runs these: built once (a statement with bound parameters is reused as is, so each turn skips
# building the expression and its cache key).
# The row stays locked to the end of the transaction (PostgreSQL ``FOR NO KEY UPDATE``, which still lets
# others insert messages referencing it; SQLite has no row locks), so two turns of one conversation run one
# after the other instead of both building on the same state.
_CONVERSATION_OF_SENDER = (
    select(Conversation)
    .where(Conversation.channel == bindparam("channel"), Conversation.sender_id == bindparam("sender_id"))
    .with_for_update(key_share=True)
)
_MESSAGE_STORED = select(
    exists().where(
        Message.channel == bindparam("channel"), Message.channel_message_id == bindparam("channel_message_id")
    )
)


_MESSAGES = Message.metadata.tables[Message.__tablename__]
# A turn's read: the conversation, locked, and whether the inbound message was stored before (one query).
_TURN_STATE = (
    select(
        Conversation,
        exists()
        .where(
            Message.channel == bindparam("channel"),
            Message.channel_message_id == bindparam("channel_message_id"),
        )
        .label("handled"),
    )
    .where(Conversation.channel == bindparam("channel"), Conversation.sender_id == bindparam("sender_id"))
    .with_for_update(key_share=True, of=Conversation)
)


@dataclass(frozen=True)
class NewMessage:
    """A message to store with a turn (see :meth:`ConversationRepository.insert_messages`)."""

    direction: MessageDirection
    channel: ChannelName
    text: str
    at: datetime
    channel_message_id: str | None = None
    ticket_reference: str | None = None
    meta: Mapping[str, str] | None = None
    in_reply_to: str | None = None


class ConversationRepository:
    """Reads and writes conversations and messages in one session; never commits."""

    def __init__(self, session: AsyncSession) -> None:
        """Bind to ``session``."""
        self.session = session

    async def get_or_create(self, *, channel: ChannelName, sender_id: str, now: datetime) -> Conversation:
        """The conversation of ``sender_id`` on ``channel``, locked for this transaction; two first messages
        at once still make one."""
        params = {"channel": channel, "sender_id": sender_id}
        existing = (await self.session.scalars(_CONVERSATION_OF_SENDER, params)).one_or_none()
        if existing is not None:
            return existing
        statement = (
            dialect_insert(self.session, Conversation)
            .values(
                id=uuid.uuid4().hex,
                channel=channel,
                sender_id=sender_id,
                state={},
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["channel", "sender_id"])
        )
        await self.session.execute(statement)
        return (await self.session.scalars(_CONVERSATION_OF_SENDER, params)).one()

    async def load_for_turn(
        self, *, channel: ChannelName, sender_id: str, channel_message_id: str | None, now: datetime
    ) -> tuple[Conversation, bool]:
        """The conversation (locked, created on first contact) and whether a message with
        ``channel_message_id`` was stored before: one query for a known conversation."""
        params = {"channel": channel, "sender_id": sender_id, "channel_message_id": channel_message_id}
        row = (await self.session.execute(_TURN_STATE, params)).one_or_none()
        if row is not None:
            return row[0], bool(row[1]) and channel_message_id is not None
        conversation = await self.get_or_create(channel=channel, sender_id=sender_id, now=now)
        if channel_message_id is None:
            return conversation, False
        return conversation, await self.has_message(channel=channel, channel_message_id=channel_message_id)

    async def write_turn(
        self,
        *,
        conversation: Conversation,
        messages: Sequence[NewMessage],
        state: dict[str, Any],
        now: datetime,
        thread_meta: Mapping[str, str] | None = None,
    ) -> None:
        """Store a turn's ``messages`` (in this order) and the new state of ``conversation`` (loaded in this
        session). PostgreSQL: one statement (the INSERT in a CTE of the UPDATE); SQLite: an INSERT and an
        UPDATE. A repeated channel message id raises IntegrityError."""
        values: dict[str, Any] = {"state": state, "updated_at": now}
        if thread_meta:
            values["thread_meta"] = {**(conversation.thread_meta or {}), **thread_meta}
        statement = update(Conversation).where(Conversation.id == conversation.id).values(**values)
        rows = [_row(conversation.id, m) for m in messages]
        if rows and is_postgres(self.session):
            statement = statement.add_cte(insert(_MESSAGES).values(rows).cte("stored_messages"))
        elif rows:
            await self.session.execute(insert(_MESSAGES), rows)
        result = await self.session.execute(statement, execution_options={"synchronize_session": False})
        if not result.rowcount:  # type: ignore[attr-defined]  # an UPDATE's CursorResult has a rowcount
            raise LookupError(f"no conversation {conversation.id}")

    async def locked(self, *, conversation_id: str) -> Conversation | None:
        """The conversation, to change its state outside a turn: waits for a turn of it in progress (on any
        worker: its turn lock) and keeps the next one waiting until this transaction ends."""
        key = select(Conversation.channel, Conversation.sender_id).where(Conversation.id == conversation_id)
        found = (await self.session.execute(key)).one_or_none()
        if found is None:
            return None
        await lock_for_transaction(self.session, conversation_lock_key(found.channel, found.sender_id))
        return await self.session.get(
            Conversation, conversation_id, with_for_update=True, populate_existing=True
        )

    async def get(self, *, conversation_id: str) -> Conversation | None:
        """The conversation with this id."""
        return await self.session.get(Conversation, conversation_id)

    async def has_message(self, *, channel: ChannelName, channel_message_id: str) -> bool:
        """True when a message with this channel id is stored."""
        params = {"channel": channel, "channel_message_id": channel_message_id}
        return bool(await self.session.scalar(_MESSAGE_STORED, params))

    async def save_state(
        self,
        *,
        conversation_id: str,
        state: dict[str, Any],
        now: datetime,
        thread_meta: Mapping[str, str] | None = None,
    ) -> None:
        """Store the dialogue state; ``thread_meta`` is merged into what the channel stored before.

        One UPDATE, sent at once; the stored thread details are read first only when there are new ones to
        merge (from the session's identity map when this session loaded the conversation)."""
        values: dict[str, Any] = {"state": state, "updated_at": now}
        if thread_meta:
            conversation = await self.session.get(Conversation, conversation_id)
            if conversation is None:
                raise LookupError(f"no conversation {conversation_id}")
            values["thread_meta"] = {**(conversation.thread_meta or {}), **thread_meta}
        result = await self.session.execute(
            update(Conversation).where(Conversation.id == conversation_id).values(**values)
        )
        if not result.rowcount:  # type: ignore[attr-defined]  # an UPDATE's CursorResult has a rowcount
            raise LookupError(f"no conversation {conversation_id}")

    def add_message(
        self,
        *,
        conversation_id: str,
        direction: MessageDirection,
        channel: ChannelName,
        text: str,
        at: datetime,
        channel_message_id: str | None = None,
        ticket_reference: str | None = None,
        meta: Mapping[str, str] | None = None,
    ) -> Message:
        """Queue one message for insertion (flushed with the turn)."""
        message = Message(
            conversation_id=conversation_id,
            direction=direction,
            channel=channel,
            text=text,
            at=at,
            channel_message_id=channel_message_id,
            ticket_reference=ticket_reference,
            meta=dict(meta) if meta else None,
        )
        self.session.add(message)
        return message

    async def insert_messages(self, *, conversation_id: str, messages: Sequence[NewMessage]) -> None:
        """Store ``messages`` in this order with one INSERT, sent at once (a repeated channel message id
        raises IntegrityError here)."""
        if not messages:
            return
        await self.session.execute(  # the table, not the entity: a plain executemany, no ORM bulk grouping
            insert(_MESSAGES), [_row(conversation_id, m) for m in messages]
        )

    async def replies_to(self, *, channel: ChannelName, channel_message_id: str) -> list[Message]:
        """The replies stored with the turn of the inbound message ``channel_message_id``, in order."""
        rows = await self.session.scalars(
            select(Message)
            .where(
                Message.channel == channel,
                Message.in_reply_to == channel_message_id,
                Message.direction == MessageDirection.OUTBOUND,
            )
            .order_by(Message.id)
        )
        return list(rows.all())

    async def latest_of_sender(
        self, *, channel: ChannelName, sender_id: str, limit: int = 500
    ) -> list[Message]:
        """The last ``limit`` messages of ``sender_id``'s conversation on ``channel``, oldest first."""
        rows = await self.session.scalars(
            select(Message)
            .join(Conversation, Message.conversation_id == Conversation.id)
            .where(Conversation.channel == channel, Conversation.sender_id == sender_id)
            .order_by(Message.at.desc(), Message.id.desc())
            .limit(limit)
        )
        return list(reversed(rows.all()))

    async def transcript(self, *, conversation_id: str, limit: int = 500) -> list[Message]:
        """The conversation's messages in the order they were stored (the latest ``limit``)."""
        rows = await self.session.scalars(
            select(Message)
            .where(Message.conversation_id == conversation_id)
            .order_by(Message.id.desc())
            .limit(limit)
        )
        return list(reversed(rows.all()))


def _row(conversation_id: str, message: NewMessage) -> dict[str, Any]:
    return {
        "conversation_id": conversation_id,
        "direction": message.direction,
        "channel": message.channel,
        "channel_message_id": message.channel_message_id,
        "text": message.text,
        "at": message.at,
        "ticket_reference": message.ticket_reference,
        "meta": dict(message.meta) if message.meta else None,
        "in_reply_to": message.in_reply_to,
    }
