"""The Redis server on 127.0.0.1:6379 for tests.

``redis_url`` points at one of databases 1-15, chosen at random per test, so that tests running at the same
time rarely share keys (the push bus names its channels after the database too); it is skipped, with the
reason, when the server does not answer. Keys the tests write expire by themselves.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379


@pytest.fixture
async def redis_url() -> AsyncIterator[str]:
    """``redis://127.0.0.1:6379/<n>`` with n in 1..15."""
    url = f"redis://{REDIS_HOST}:{REDIS_PORT}/{random.randint(1, 15)}"
    client = Redis.from_url(url, socket_connect_timeout=2)
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        pytest.skip(f"Redis at {REDIS_HOST}:{REDIS_PORT} unreachable: {exc}")
    finally:
        await client.aclose()
    yield url
