"""Elected singletons: one lease holder at a time, taken over when the holder stops or dies."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cluster.leases import Elected, LeaseBook
from bot.domain.clock import SystemClock
from tests.support.database import FrozenClock


class Polling:
    """A service that records whether it runs."""

    def __init__(self) -> None:
        self.running = False
        self.started = asyncio.Event()

    async def start(self) -> None:
        self.running = True
        self.started.set()

    async def stop(self) -> None:
        self.running = False


async def test_one_holder_until_it_expires(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """A holds the lease and renews it; B gets it only after A's lease expired; then A's renewal fails."""
    book = LeaseBook(sessionmaker, clock=clock)
    ttl = timedelta(seconds=20)
    assert await book.acquire("imap", holder="A", ttl=ttl)
    assert not await book.acquire("imap", holder="B", ttl=ttl)
    clock.advance(seconds=15)
    assert await book.acquire("imap", holder="A", ttl=ttl)
    clock.advance(seconds=19)
    assert not await book.acquire("imap", holder="B", ttl=ttl)
    assert await book.holder("imap") == "A"
    clock.advance(seconds=2)
    assert await book.acquire("imap", holder="B", ttl=ttl)
    assert not await book.acquire("imap", holder="A", ttl=ttl)
    assert await book.acquire("telegram", holder="A", ttl=ttl)


async def test_released_lease_is_free_at_once(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """A holder that releases lets another take the lease before it would expire."""
    book = LeaseBook(sessionmaker, clock=clock)
    assert await book.acquire("imap", holder="A", ttl=timedelta(minutes=1))
    await book.release("imap", holder="B")
    assert await book.holder("imap") == "A"
    await book.release("imap", holder="A")
    assert await book.acquire("imap", holder="B", ttl=timedelta(minutes=1))


async def test_service_moves_to_another_worker_within_the_lease(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Two workers compete: the service runs on one only; when that one dies (stops renewing without a
    release), the other runs it within the lease time; on a clean stop, the other takes it over too."""
    lease_seconds = 1.2
    book = LeaseBook(sessionmaker, clock=SystemClock())
    first, second = Polling(), Polling()
    a = Elected("imap", first, leases=book, holder="A", lease_seconds=lease_seconds, clock=SystemClock())
    b = Elected("imap", second, leases=book, holder="B", lease_seconds=lease_seconds, clock=SystemClock())
    await a.start()
    await b.start()
    try:
        assert first.running and not second.running
        await asyncio.sleep(lease_seconds)
        assert first.running and not second.running, "the holder renews; the other keeps waiting"
        assert a._task is not None
        a._task.cancel()  # A dies: it neither renews nor releases
        died = time.monotonic()
        await asyncio.wait_for(second.started.wait(), lease_seconds * 2)
        assert time.monotonic() - died <= lease_seconds
        await b.stop()
        assert not second.running
        assert await book.holder("imap") is None
    finally:
        a._task = None
        await a.stop()
        await b.stop()
