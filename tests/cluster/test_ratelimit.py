"""Rate limits through the limits library, in memory and in Redis."""

from __future__ import annotations

import asyncio
import uuid

from bot.cluster.ratelimit import Allowance, RateLimiter, limit_storage
from tests.support.mail_servers import free_port


def _allowance(limit: int = 2, seconds: int = 2) -> Allowance:
    return Allowance(f"test-{uuid.uuid4().hex[:8]}", limit, seconds)


async def test_memory_limit_refuses_past_the_allowance_then_frees_the_window() -> None:
    """The limit-th event passes, the next gets the seconds to wait; after the window it passes again."""
    limiter = RateLimiter(limit_storage(None), _allowance(limit=2, seconds=1))
    assert [await limiter.hit("a") for _ in range(2)] == [0, 0]
    assert await limiter.hit("a") == 1
    assert await limiter.hit("b") == 0
    await asyncio.sleep(1.1)
    assert await limiter.hit("a") == 0


async def test_allows_counts_nothing_and_record_counts() -> None:
    """``allows`` only looks; ``record`` counts (the email reply cap checks, sends, then records)."""
    limiter = RateLimiter(limit_storage(None), _allowance(limit=1, seconds=60))
    assert await limiter.allows("a") and await limiter.allows("a")
    await limiter.record("a")
    assert not await limiter.allows("a")


async def test_redis_limit_is_shared_by_two_workers(redis_url: str) -> None:
    """Two limiters on their own Redis connections (two workers) count one window: A's hits hold on B."""
    allowance = _allowance(limit=3, seconds=60)
    worker_a = RateLimiter(limit_storage(redis_url), allowance)
    worker_b = RateLimiter(limit_storage(redis_url), allowance)
    key = uuid.uuid4().hex
    assert [await worker_a.hit(key) for _ in range(3)] == [0, 0, 0]
    wait = await worker_b.hit(key)
    assert 1 <= wait <= 60
    assert await worker_b.hit(uuid.uuid4().hex) == 0


async def test_memory_limits_of_two_processes_are_apart() -> None:
    """Without Redis each process counts alone (today's single-process behaviour)."""
    allowance = _allowance(limit=1, seconds=60)
    one, two = RateLimiter(limit_storage(None), allowance), RateLimiter(limit_storage(None), allowance)
    assert await one.hit("k") == 0
    assert await two.hit("k") == 0


async def test_unreachable_redis_lets_traffic_through() -> None:
    """With Redis down the limiter allows (and logs) instead of failing every request."""
    limiter = RateLimiter(limit_storage(f"redis://127.0.0.1:{free_port()}/0"), _allowance(limit=1))
    assert [await limiter.hit("a") for _ in range(3)] == [0, 0, 0]
    assert await limiter.allows("a")
