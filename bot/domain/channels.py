"""The channels a person can write from."""

from __future__ import annotations

from enum import StrEnum


class ChannelName(StrEnum):
    """Where a person wrote from; replies go back the same way."""

    WEB = "web"
    TELEGRAM = "telegram"
    EMAIL = "email"
    CLI = "cli"

    @property
    def delivers_later(self) -> bool:
        """True for the channels that send a turn's replies after the turn committed, through the delivery
        outbox (Telegram, email); the web chat and the terminal answer in their response instead."""
        return self in _DELIVERED_LATER


_DELIVERED_LATER = frozenset({ChannelName.TELEGRAM, ChannelName.EMAIL})
