"""Rate limits through the ``limits`` library: one mechanism for the web chat and the email reply cap.

A moving window per key, counted in memory (one process) or in Redis (every worker shares the count).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

KEY_PREFIX = "privacybot-limits"


@dataclass(frozen=True)
class Allowance:
    """``limit`` events per key in any ``seconds``, counted under ``name`` (its keys apart from others)."""

    name: str
    limit: int
    seconds: int


def limit_storage(redis_url: str | None) -> Storage:
    """Redis storage (redis-py's asyncio client) for ``redis_url``, else memory storage for one process."""
    if redis_url is None:
        return MemoryStorage()
    return RedisStorage(f"async+{redis_url}", implementation="redispy", key_prefix=KEY_PREFIX)


class RateLimiter:
    """Counts events per key against one :class:`Allowance`.

    When the storage does not answer (Redis down) the event is allowed and a warning logged: people keep
    being answered while the limits are blind, rather than all being refused."""

    def __init__(self, storage: Storage, allowance: Allowance) -> None:
        """Count in ``storage`` (shared by every limiter of the process)."""
        self.allowance = allowance
        self.limit = allowance.limit
        self._strategy = MovingWindowRateLimiter(storage)
        self._item = RateLimitItemPerSecond(allowance.limit, allowance.seconds)

    async def hit(self, key: str) -> int:
        """Count one event for ``key``: 0 when allowed, else the whole seconds to wait (not counted)."""
        try:
            if await self._strategy.hit(self._item, self.allowance.name, key):
                return 0
            stats = await self._strategy.get_window_stats(self._item, self.allowance.name, key)
        except (RedisError, OSError) as exc:
            self._blind(exc)
            return 0
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def allows(self, key: str) -> bool:
        """True when one more event for ``key`` stays within the allowance (nothing is counted)."""
        try:
            return await self._strategy.test(self._item, self.allowance.name, key)
        except (RedisError, OSError) as exc:
            self._blind(exc)
            return True

    async def record(self, key: str) -> None:
        """Count one event for ``key`` (after :meth:`allows` said it fits)."""
        try:
            await self._strategy.hit(self._item, self.allowance.name, key)
        except (RedisError, OSError) as exc:
            self._blind(exc)

    def _blind(self, exc: Exception) -> None:
        log.warning("rate limit %s not counted: %s", self.allowance.name, type(exc).__name__)
