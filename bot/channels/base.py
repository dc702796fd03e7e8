"""The one entry into the conversation a channel gets (the Channel protocol and the deliveries are in
bot/deliveries.py, below the officer workspace that uses them)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.conversation.engine import TurnResult
from bot.messages import InboundMessage

# The one entry into the conversation a channel gets: it never sees the conversation's internals.
HandleInbound = Callable[[InboundMessage], Awaitable[TurnResult]]
