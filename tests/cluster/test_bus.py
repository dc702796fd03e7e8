"""Push fan-out: the local bus in one process, Redis pub/sub between workers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from bot.cluster.bus import LocalBus, RedisBus, Topic
from bot.cluster.redis_client import connect_redis


class Collected:
    """A subscriber that keeps what it receives and signals each arrival."""

    def __init__(self) -> None:
        self.payloads: list[dict[str, Any]] = []
        self.arrived = asyncio.Event()

    async def __call__(self, payload: dict[str, Any]) -> None:
        self.payloads.append(payload)
        self.arrived.set()


async def test_local_bus_calls_its_subscribers() -> None:
    """Without Redis, publishing calls this process's subscribers at once."""
    bus, collected = LocalBus(), Collected()
    bus.subscribe(Topic.WEB_CHAT, collected)
    await bus.start()
    await bus.publish(Topic.WEB_CHAT, {"session_id": "s", "message": {"text": "hello"}})
    assert collected.payloads == [{"session_id": "s", "message": {"text": "hello"}}]
    assert bus.ready


@asynccontextmanager
async def two_buses(url_a: str, url_b: str) -> AsyncIterator[tuple[RedisBus, Collected, Collected]]:
    """Two started workers' buses on ``url_a`` and ``url_b``; yields A's bus and what each collects."""
    redis_a, redis_b = connect_redis(url_a), connect_redis(url_b)
    bus_a, bus_b = RedisBus(redis_a), RedisBus(redis_b)
    on_a, on_b = Collected(), Collected()
    bus_a.subscribe(Topic.WEB_CHAT, on_a)
    bus_b.subscribe(Topic.WEB_CHAT, on_b)
    await bus_a.start()
    await bus_b.start()
    try:
        assert bus_a.ready and bus_b.ready
        yield bus_b, on_a, on_b
    finally:
        await bus_a.stop()
        await bus_b.stop()
        await redis_a.aclose()
        await redis_b.aclose()
    assert not bus_a.ready


async def test_redis_bus_reaches_the_other_worker(redis_url: str) -> None:
    """A payload published by worker B reaches the subscriber of worker A (and B's own)."""
    async with two_buses(redis_url, redis_url) as (bus_b, on_a, on_b):
        await bus_b.publish(Topic.WEB_CHAT, {"session_id": "s1", "message": {"text": "from B"}})
        await asyncio.wait_for(on_a.arrived.wait(), 5)
        await asyncio.wait_for(on_b.arrived.wait(), 5)
    assert on_a.payloads == on_b.payloads == [{"session_id": "s1", "message": {"text": "from B"}}]


async def test_redis_databases_do_not_hear_each_other(redis_url: str) -> None:
    """Pub/sub is server-wide, so the channel carries the database: db n and db n+1 stay apart."""
    base, _, db = redis_url.rpartition("/")
    async with two_buses(redis_url, f"{base}/{(int(db) % 15) + 1}") as (bus_b, on_a, on_b):
        await bus_b.publish(Topic.WEB_CHAT, {"session_id": "s2", "message": {}})
        await asyncio.wait_for(on_b.arrived.wait(), 5)
        await asyncio.sleep(0.2)
    assert on_a.payloads == []
