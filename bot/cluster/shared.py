"""The state workers share, built once by the wiring point from ``PRIVACYBOT_REDIS_URL``: the push bus, the
rate-limit storage and who has a page open (Redis for a cluster, in memory for one process)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from limits.aio.storage import Storage
from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.cluster.bus import LocalBus, PushBus, RedisBus
from bot.cluster.presence import LocalPresence, Presence, RedisPresence
from bot.cluster.ratelimit import Allowance, RateLimiter, limit_storage
from bot.cluster.redis_client import connect_redis, redis_reachable


@dataclass
class SharedState:
    """The bus, the rate-limit storage and the open pages; ``redis`` is None for a single process."""

    bus: PushBus
    limits: Storage
    presence: Presence
    redis: Redis | None = None

    def limiter(self, allowance: Allowance) -> RateLimiter:
        """A rate limiter counting in the shared storage."""
        return RateLimiter(self.limits, allowance)

    async def start(self) -> None:
        """Start receiving pushes (with Redis: fails here when it is unreachable) and marking open pages."""
        await self.bus.start()
        await self.presence.start()

    async def stop(self) -> None:
        """Stop receiving pushes and marking pages, and close the Redis connections."""
        await self.presence.stop()
        await self.bus.stop()
        if self.redis is not None:
            with contextlib.suppress(RedisError, OSError):
                await self.redis.aclose()

    async def redis_ok(self) -> bool | None:
        """Whether Redis answers, or None when this process runs without it."""
        if self.redis is None:
            return None
        return await redis_reachable(self.redis)


def local_state() -> SharedState:
    """One process: a local bus and memory storage."""
    return SharedState(LocalBus(), limit_storage(None), LocalPresence())


def shared_state(redis_url: str | None) -> SharedState:
    """Redis-backed state for ``redis_url``, else :func:`local_state`."""
    if redis_url is None:
        return local_state()
    redis = connect_redis(redis_url)
    return SharedState(RedisBus(redis), limit_storage(redis_url), RedisPresence(redis), redis)
