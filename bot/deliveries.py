"""What every channel offers the application, and the routing of a later message to its channel."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol, runtime_checkable

from bot.domain.channels import ChannelName
from bot.domain.errors import DeliveryFailed
from bot.messages import OutboundMessage


class Channel(Protocol):
    """A running channel: started and stopped by the application, able to deliver later messages
    (an officer's reply, a status update) to a person on it."""

    name: ChannelName

    async def start(self) -> None:
        """Begin receiving (polling, IDLE, ...). Returns once running."""
        ...

    async def stop(self) -> None:
        """Stop receiving and release connections."""
        ...

    async def deliver(self, message: OutboundMessage) -> None:
        """Send a message that is not a direct reply to an inbound one. Raises DeliveryFailed."""
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
