"""What every channel offers the application, the routing of a later message to its channel, and the bell
that wakes the delivery outbox's drain when a commit queued something."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Protocol, runtime_checkable

from bot.domain.channels import ChannelName
from bot.domain.errors import DeliveryFailed
from bot.messages import OutboundMessage


class Channel(Protocol):
    """A running channel: started and stopped by the application, able to deliver what the delivery
    outbox hands it (a turn's replies, an officer's reply, a status update) to a person on it."""

    name: ChannelName

    async def start(self) -> None:
        """Begin receiving (polling, IDLE, ...). Returns once running."""
        ...

    async def stop(self) -> None:
        """Stop receiving and release connections."""
        ...

    async def deliver(self, message: OutboundMessage) -> None:
        """Send a message the delivery outbox hands over (a turn's reply on a channel that delivers later,
        an officer's reply, a status notice). Raises DeliveryFailed."""
        ...


@runtime_checkable
class DeliversTogether(Protocol):
    """A channel that sends the messages of one delivery as one piece (email: one mail holding a turn's
    replies). ``key`` names the delivery, so that sending it again gives the same piece (Message-ID)."""

    name: ChannelName

    async def deliver_together(self, messages: Sequence[OutboundMessage], *, key: str | None) -> None:
        """Send ``messages`` (one recipient's) as one. Raises DeliveryFailed."""
        ...


# Called with (channel, recipient id) when a person comes back to a channel that kept messages for them.
ReturnListener = Callable[[ChannelName, str], Awaitable[None]]


@runtime_checkable
class KeepsForNextVisit(Protocol):
    """A channel that accepts a message while the person is away and shows it when they come back (the
    web chat): it can say whether the person is there now, and tell when they return."""

    name: ChannelName

    async def reaches_now(self, recipient_id: str) -> bool:
        """True when the person sees a message delivered now (a page open, on any worker)."""
        ...

    def on_return(self, listener: ReturnListener) -> None:
        """Call ``listener`` each time a person comes back."""
        ...


class Deliveries:
    """Routes an outbound message to the channel it belongs to."""

    def __init__(self, channels: Mapping[ChannelName, Channel] | None = None) -> None:
        self._channels: dict[ChannelName, Channel] = dict(channels or {})
        self._return_listeners: list[ReturnListener] = []

    def register(self, channel: Channel) -> None:
        """Make ``channel`` the route for its channel name."""
        self._channels[channel.name] = channel
        if isinstance(channel, KeepsForNextVisit):
            for listener in self._return_listeners:
                channel.on_return(listener)

    @property
    def channels(self) -> tuple[Channel, ...]:
        """Every registered channel."""
        return tuple(self._channels.values())

    def delivers_together(self, name: ChannelName) -> bool:
        """Whether the channel ``name`` sends a delivery's messages as one piece."""
        return isinstance(self._channels.get(name), DeliversTogether)

    async def reaches_now(self, message: OutboundMessage) -> bool:
        """Whether the person sees ``message`` now (False: their channel keeps it for their next visit)."""
        channel = self._channels.get(message.channel)
        if isinstance(channel, KeepsForNextVisit):
            return await channel.reaches_now(message.recipient_id)
        return True

    def on_return(self, listener: ReturnListener) -> None:
        """Call ``listener`` when a person comes back to any channel that keeps messages for them (also
        on channels registered later)."""
        self._return_listeners.append(listener)
        for channel in self._channels.values():
            if isinstance(channel, KeepsForNextVisit):
                channel.on_return(listener)

    async def deliver(self, message: OutboundMessage) -> None:
        """Send ``message`` on its channel. Raises DeliveryFailed when that channel is not running."""
        channel = self._channels.get(message.channel)
        if channel is None:
            raise DeliveryFailed(message.channel, "channel not running")
        await channel.deliver(message)

    async def deliver_together(self, messages: Sequence[OutboundMessage], *, key: str | None) -> None:
        """Send ``messages`` as one piece on a channel that does that (see :meth:`delivers_together`).
        Raises DeliveryFailed when that channel is not running."""
        channel = self._channels.get(messages[0].channel)
        if not isinstance(channel, DeliversTogether):
            raise DeliveryFailed(messages[0].channel, "channel not running")
        await channel.deliver_together(messages, key=key)


class DeliveryBell:
    """Rung after a commit that queued deliveries: the drain loop waiting on it sends them at once instead
    of at its next round. Built by the wiring point, shared by the turns and the drain."""

    def __init__(self) -> None:
        self.event = asyncio.Event()

    async def ring(self) -> None:
        """Wake the drain (an ``AfterCommit`` hook)."""
        self.event.set()
