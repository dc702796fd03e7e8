"""The seam between the conversation and its persistence: one unit of work per turn."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

from actions.desk import RequestDesk
from bot.conversation.state import DialogueState
from bot.messages import ChannelName, InboundMessage, OutboundMessage


class DuplicateMessage(Exception):
    """An inbound message with this channel message id was stored meanwhile (a redelivery raced us)."""

    def __init__(self, channel: ChannelName, message_id: str) -> None:
        super().__init__(f"{channel.value} message already stored")
        self.channel = channel
        self.message_id = message_id


@dataclass(frozen=True)
class ConversationRecord:
    """A stored conversation: its id and the state it was left in."""

    id: str
    channel: ChannelName
    sender_id: str
    state: DialogueState


class TurnStore(Protocol):
    """What one turn reads and writes. The whole turn commits together or not at all."""

    @property
    def desk(self) -> RequestDesk | None:
        """Tickets and verification, or None where no tickets may open (`privacybot ask`)."""
        ...

    async def load_conversation(self, channel: ChannelName, sender_id: str) -> ConversationRecord:
        """The conversation of this person on this channel, created on first contact."""
        ...

    async def already_handled(self, channel: ChannelName, message_id: str) -> bool:
        """True when an inbound message with this channel message id was stored before."""
        ...

    async def replies_to(self, channel: ChannelName, message_id: str) -> tuple[OutboundMessage, ...]:
        """The replies stored with the turn of this inbound message (empty when none were kept)."""
        ...

    async def record_turn(
        self,
        conversation: ConversationRecord,
        inbound: InboundMessage,
        replies: Sequence[OutboundMessage],
        state: DialogueState,
    ) -> None:
        """Store the inbound message, the replies and the new state. Raises DuplicateMessage when the same
        channel message id was stored meanwhile."""
        ...

    async def commit(self) -> None:
        """Make everything this turn wrote durable."""
        ...


class TurnStoreFactory(Protocol):
    """Opens one unit of work; leaving it without commit rolls back."""

    def __call__(self) -> AbstractAsyncContextManager[TurnStore]: ...
