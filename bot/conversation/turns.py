"""The seam between the conversation and its persistence: one unit of work per turn."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from bot.domain.channels import ChannelName
from bot.domain.dialogue import ConversationRecord, DialogueState
from bot.domain.tickets import RequestDesk
from bot.messages import InboundMessage, OutboundMessage


class TurnStore(Protocol):
    """What one turn reads and writes. The whole turn commits together or not at all."""

    @property
    def desk(self) -> RequestDesk | None:
        """Tickets and verification, or None where no tickets may open (`privacybot ask`)."""
        ...

    async def load_conversation(
        self, channel: ChannelName, sender_id: str, message_id: str | None = None
    ) -> ConversationRecord:
        """The conversation of this person on this channel, created on first contact. The turn holds it
        to its end: another turn of the same conversation (on any worker) waits here. ``message_id`` lets
        a store answer :meth:`already_handled` for it from the same read."""
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
        """Store the inbound message, the replies and the new state, with the turn's commit (a store may
        send it all with the commit). Raises DuplicateMessage, here or from :meth:`commit`, when the same
        channel message id was stored meanwhile."""
        ...

    async def commit(self) -> None:
        """Make everything this turn wrote durable (raises DuplicateMessage, see :meth:`record_turn`)."""
        ...


class TurnStoreFactory(Protocol):
    """Opens one unit of work; leaving it without commit rolls back."""

    def __call__(self) -> AbstractAsyncContextManager[TurnStore]: ...
