"""What every channel offers the application, and the routing of a later message to its channel."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

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


class Deliveries:
    """Routes an outbound message to the channel it belongs to."""

    def __init__(self, channels: Mapping[ChannelName, Channel] | None = None) -> None:
        self._channels: dict[ChannelName, Channel] = dict(channels or {})

    def register(self, channel: Channel) -> None:
        """Make ``channel`` the route for its channel name."""
        self._channels[channel.name] = channel

    @property
    def channels(self) -> tuple[Channel, ...]:
        """Every registered channel."""
        return tuple(self._channels.values())

    async def deliver(self, message: OutboundMessage) -> None:
        """Send ``message`` on its channel. Raises DeliveryFailed when that channel is not running."""
        channel = self._channels.get(message.channel)
        if channel is None:
            raise DeliveryFailed(message.channel, "channel not running")
        await channel.deliver(message)
