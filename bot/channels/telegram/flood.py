"""Flood control: a Bot API "retry after N seconds" answer is waited out and the call retried, a bounded
number of times, instead of dropping the message."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods.base import TelegramType

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import Response, TelegramMethod

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


class WaitOutFloodControl(BaseRequestMiddleware):
    """A session middleware: on TelegramRetryAfter, sleep ``retry_after`` seconds and call again.

    At most ``max_retries`` retries per call, and never a single wait longer than ``max_wait`` seconds;
    past either bound the TelegramRetryAfter propagates to the caller.
    """

    def __init__(self, *, max_retries: int = 3, max_wait: float = 60.0, sleep: Sleep = asyncio.sleep) -> None:
        self.max_retries = max_retries
        self.max_wait = max_wait
        self.sleep = sleep

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        """Make the request, waiting out flood control up to the configured bounds."""
        attempt = 0
        while True:
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as flood:
                attempt += 1
                if attempt > self.max_retries or flood.retry_after > self.max_wait:
                    raise
                log.warning(
                    "flood control on %s: waiting %s s (retry %d of %d)",
                    type(method).__name__,
                    flood.retry_after,
                    attempt,
                    self.max_retries,
                )
                await self.sleep(flood.retry_after)
