"""Conversations kept in memory only: for `privacybot ask`, where nothing is stored and no ticket opens (nor
is anything delivered later: replies queued for a later channel are only kept, in ``queued``)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from bot.domain.channels import ChannelName
from bot.domain.dialogue import ConversationRecord, DialogueState
from bot.domain.tickets import RequestDesk
from bot.messages import InboundMessage, OutboundMessage


class MemoryTurnStore:
    """A TurnStore over a dict. Conversations live as long as the object."""

    def __init__(self) -> None:
        self._conversations: dict[tuple[ChannelName, str], ConversationRecord] = {}
        self._seen: dict[tuple[ChannelName, str], tuple[OutboundMessage, ...]] = {}
        self.queued: list[tuple[OutboundMessage, ...]] = []

    @property
    def desk(self) -> RequestDesk | None:
        """No desk: nothing here may open a ticket."""
        return None

    async def load_conversation(
        self, channel: ChannelName, sender_id: str, message_id: str | None = None
    ) -> ConversationRecord:
        """The conversation for this sender, new on first contact (``message_id``: see already_handled)."""
        key = (channel, sender_id)
        if key not in self._conversations:
            self._conversations[key] = ConversationRecord(
                uuid.uuid4().hex, channel, sender_id, DialogueState()
            )
        return self._conversations[key]

    async def already_handled(self, channel: ChannelName, message_id: str) -> bool:
        """True for a message id seen before."""
        return (channel, message_id) in self._seen

    async def replies_to(self, channel: ChannelName, message_id: str) -> tuple[OutboundMessage, ...]:
        """The replies given to this message id."""
        return self._seen.get((channel, message_id), ())

    async def record_turn(
        self,
        conversation: ConversationRecord,
        inbound: InboundMessage,
        replies: Sequence[OutboundMessage],
        state: DialogueState,
    ) -> None:
        """Keep the new state and, for a message with an id, its replies (for a retry)."""
        if inbound.message_id:
            self._seen[(inbound.channel, inbound.message_id)] = tuple(replies)
        key = (conversation.channel, conversation.sender_id)
        self._conversations[key] = ConversationRecord(
            conversation.id, conversation.channel, conversation.sender_id, state
        )

    def queue_delivery(self, replies: Sequence[OutboundMessage], *, key: str | None) -> None:
        """Keep ``replies`` in ``queued``: there is no outbox here to send them."""
        self.queued.append(tuple(replies))

    async def commit(self) -> None:
        """Nothing to make durable."""

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[MemoryTurnStore]:
        """Act as its own factory: every turn shares the one dict."""
        yield self
