"""The channels a person can write from."""

from __future__ import annotations

from enum import StrEnum


class ChannelName(StrEnum):
    """Where a person wrote from; replies go back the same way."""

    WEB = "web"
    TELEGRAM = "telegram"
    EMAIL = "email"
    CLI = "cli"
