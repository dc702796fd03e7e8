"""The Redis client every worker shares (redis-py's asyncio client), built by the wiring point."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.exceptions import RedisError

CONNECT_TIMEOUT = 3.0


def connect_redis(url: str) -> Redis:
    """A client for ``url`` (``redis://host:port/db``); it connects on first use."""
    return Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT, health_check_interval=30)


async def redis_reachable(redis: Redis) -> bool:
    """True when Redis answers a PING."""
    try:
        return bool(await redis.ping())
    except (RedisError, OSError):
        return False
