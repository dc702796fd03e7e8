"""Who has a page open: one process's own pages, or every worker's through Redis."""

from __future__ import annotations

import asyncio

from bot.cluster.presence import LocalPresence, RedisPresence
from bot.cluster.redis_client import connect_redis


async def test_local_presence_counts_this_process_pages() -> None:
    """Without Redis a person is present while one of their pages is open in this process."""
    presence = LocalPresence()
    await presence.opened("s")
    await presence.opened("s")
    await presence.closed("s")
    assert await presence.present("s")
    await presence.closed("s")
    assert not await presence.present("s")


async def test_a_page_open_on_one_worker_is_seen_by_another(redis_url: str) -> None:
    """Worker A's open page makes the person present for worker B until A's last page of them closes."""
    redis_a, redis_b = connect_redis(redis_url), connect_redis(redis_url)
    a, b = RedisPresence(redis_a), RedisPresence(redis_b)
    try:
        assert not await b.present("page-1")
        await a.opened("page-1")
        await a.opened("page-1")
        assert await b.present("page-1")
        await a.closed("page-1")
        assert await b.present("page-1")
        await a.closed("page-1")
        assert not await b.present("page-1")
    finally:
        await redis_a.aclose()
        await redis_b.aclose()


async def test_marks_of_a_worker_that_died_expire_and_live_ones_are_renewed(redis_url: str) -> None:
    """A worker that stops renewing (it died) leaves a mark that expires within its TTL; a running worker
    renews its marks, so a page open longer than the TTL is still seen."""
    redis_a, redis_b, redis_c = (connect_redis(redis_url) for _ in range(3))
    alive, dead, observer = (RedisPresence(r, ttl_seconds=0.6) for r in (redis_a, redis_b, redis_c))
    await alive.start()
    try:
        await alive.opened("page-alive")
        await dead.opened("page-dead")  # never renewed: as if its worker died right after
        await asyncio.sleep(1.0)
        assert await observer.present("page-alive")
        assert not await observer.present("page-dead")
    finally:
        await alive.stop()
        for redis in (redis_a, redis_b, redis_c):
            await redis.aclose()
