"""The TurnStore over SQL: one session per turn; the conversation, its messages and the desk share it.

`bot.tickets.desk.sql_turn_store_factory` opens one per turn with the desk built over the same session.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.channels import ChannelName
from bot.domain.clock import Clock
from bot.domain.dialogue import ConversationRecord, DialogueState
from bot.domain.errors import DuplicateMessage
from bot.domain.tickets import RequestDesk
from bot.messages import InboundMessage, OutboundMessage
from bot.store.conversations import ConversationRepository, NewMessage
from bot.store.models import Conversation, MessageDirection


class SqlTurnStore:
    """One turn's unit of work (implements ``bot.conversation.turns.TurnStore``)."""

    def __init__(self, session: AsyncSession, *, clock: Clock, desk: RequestDesk | None) -> None:
        """Bind to ``session``; ``desk`` shares it."""
        self._session = session
        self._clock = clock
        self._desk = desk
        self._conversations = ConversationRepository(session)
        self._loaded: dict[str, Conversation] = {}

    @property
    def desk(self) -> RequestDesk | None:
        """Tickets and verification, in this turn's transaction."""
        return self._desk

    async def load_conversation(self, channel: ChannelName, sender_id: str) -> ConversationRecord:
        """The conversation of this person on this channel, created on first contact."""
        now = self._clock.now()
        row = await self._conversations.get_or_create(channel=channel, sender_id=sender_id, now=now)
        self._loaded[row.id] = row  # kept, so record_turn finds it in the session without a query
        return ConversationRecord(row.id, row.channel, row.sender_id, DialogueState.from_json(row.state))

    async def already_handled(self, channel: ChannelName, message_id: str) -> bool:
        """True when an inbound message with this channel message id was stored before."""
        return await self._conversations.has_message(channel=channel, channel_message_id=message_id)

    async def record_turn(
        self,
        conversation: ConversationRecord,
        inbound: InboundMessage,
        replies: Sequence[OutboundMessage],
        state: DialogueState,
    ) -> None:
        """Store the inbound message, the replies and the new state (raises DuplicateMessage on a race).

        After whatever the desk left pending: one INSERT of all the messages (the inbound one first, so a
        redelivery fails before the state is touched) and one UPDATE of the conversation."""
        now = self._clock.now()
        messages = [
            NewMessage(
                direction=MessageDirection.INBOUND,
                channel=inbound.channel,
                text=inbound.text,
                at=inbound.received_at,
                channel_message_id=inbound.message_id,
                meta=inbound.meta,
            ),
            *(
                NewMessage(
                    direction=MessageDirection.OUTBOUND,
                    channel=reply.channel,
                    text=reply.text,
                    at=now,
                    ticket_reference=reply.ticket_reference,
                    meta=reply.meta,
                )
                for reply in replies
            ),
        ]
        try:
            await self._session.flush()
            await self._conversations.insert_messages(conversation_id=conversation.id, messages=messages)
            await self._conversations.save_state(
                conversation_id=conversation.id, state=state.to_json(), now=now, thread_meta=inbound.meta
            )
        except IntegrityError as exc:
            if inbound.message_id and "channel_message_id" in str(exc.orig).lower():
                raise DuplicateMessage(inbound.channel, inbound.message_id) from exc
            raise

    async def commit(self) -> None:
        """Make the turn durable."""
        await self._session.commit()
