"""The one entry into the conversation a channel gets (the Channel protocol and the deliveries are in
bot/deliveries.py, below the officer workspace that uses them)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.conversation.engine import TurnResult
from bot.messages import InboundMessage
from bot.store.db import store_unavailable

log = logging.getLogger(__name__)

# The one entry into the conversation a channel gets: it never sees the conversation's internals.
HandleInbound = Callable[[InboundMessage], Awaitable[TurnResult]]


def waiting_out_outages(handle: HandleInbound, *, max_wait_seconds: float = 30.0) -> HandleInbound:
    """``handle``, tried again (1 s, then twice as long each time, up to ``max_wait_seconds``) for as long as
    the database is unreachable: the message is neither dropped nor blamed for the outage. Any other error
    propagates at once. A channel that confirms a message only after its turn (Telegram long polling, one
    update at a time) thereby confirms nothing until it is stored."""

    async def handle_when_stored(inbound: InboundMessage) -> TurnResult:
        wait = 1.0
        while True:
            try:
                return await handle(inbound)
            except Exception as exc:
                if not store_unavailable(exc):
                    raise
                log.warning("%s message waits for the database (%s)", inbound.channel, type(exc).__name__)
            await asyncio.sleep(wait)
            wait = min(wait * 2, max_wait_seconds)

    return handle_when_stored
