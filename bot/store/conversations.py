"""Conversations and their messages: the repository the turn store uses."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.messages import ChannelName
from bot.store.db import dialect_insert
from bot.store.models import Conversation, Message, MessageDirection


class ConversationRepository:
    """Reads and writes conversations and messages in one session; never commits."""

    def __init__(self, session: AsyncSession) -> None:
        """Bind to ``session``."""
        self.session = session

    async def get_or_create(self, *, channel: ChannelName, sender_id: str, now: datetime) -> Conversation:
        """The conversation of ``sender_id`` on ``channel``; two first messages at once still make one."""
        query = select(Conversation).where(
            Conversation.channel == channel, Conversation.sender_id == sender_id
        )
        existing = (await self.session.scalars(query)).one_or_none()
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
        return (await self.session.scalars(query)).one()

    async def get(self, *, conversation_id: str) -> Conversation | None:
        """The conversation with this id."""
        return await self.session.get(Conversation, conversation_id)

    async def has_message(self, *, channel: ChannelName, channel_message_id: str) -> bool:
        """True when a message with this channel id is stored."""
        query = select(
            exists().where(Message.channel == channel, Message.channel_message_id == channel_message_id)
        )
        return bool(await self.session.scalar(query))

    async def save_state(
        self,
        *,
        conversation_id: str,
        state: dict[str, Any],
        now: datetime,
        thread_meta: Mapping[str, str] | None = None,
    ) -> None:
        """Store the dialogue state; ``thread_meta`` is merged into what the channel stored before."""
        conversation = await self.session.get(Conversation, conversation_id)
        if conversation is None:
            raise LookupError(f"no conversation {conversation_id}")
        conversation.state = state
        conversation.updated_at = now
        if thread_meta:
            conversation.thread_meta = {**(conversation.thread_meta or {}), **thread_meta}

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

    async def transcript(self, *, conversation_id: str, limit: int = 500) -> list[Message]:
        """The conversation's messages in the order they were stored (the latest ``limit``)."""
        rows = await self.session.scalars(
            select(Message)
            .where(Message.conversation_id == conversation_id)
            .order_by(Message.id.desc())
            .limit(limit)
        )
        return list(reversed(rows.all()))
