"""Elected singletons: one lease holder at a time, taken over when the holder stops or dies."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cluster.leases import Elected, LeaseBook
from bot.domain.clock import SystemClock
from bot.store.db import create_engine, create_sessionmaker
from bot.store.migrate import upgrade_database
from tests.support.database import FrozenClock
from tests.support.private_postgres import PrivatePostgres


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


class Timeline:
    """A service that records, on one shared list, when each worker ran it (monotonic start, stop)."""

    def __init__(self, name: str, spans: list[tuple[str, float, float | None]]) -> None:
        self.name = name
        self.spans = spans
        self.running = False

    async def start(self) -> None:
        self.running = True
        self.spans.append((self.name, time.monotonic(), None))

    async def stop(self) -> None:
        if not self.running:
            return
        self.running = False
        for index in range(len(self.spans) - 1, -1, -1):
            name, began, ended = self.spans[index]
            if name == self.name and ended is None:
                self.spans[index] = (name, began, time.monotonic())
                break


async def _wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:  # noqa: ASYNC109
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110 - the services expose no event for a stop
            await asyncio.sleep(0.02)
    assert condition(), what


@pytest.mark.postgres
@pytest.mark.private_postgres
async def test_a_holder_that_cannot_renew_stops_before_its_lease_ends(
    private_postgres: PrivatePostgres,
) -> None:
    """PostgreSQL stops while A holds the lease (renewals are refused: ConnectionRefusedError): A's
    competition survives, A stops the service before its lease could be taken, and once the database is
    back exactly one worker runs it; the two never run it at the same time."""
    engine = create_engine(private_postgres.url)
    await upgrade_database(engine)
    book = LeaseBook(create_sessionmaker(engine), clock=SystemClock())
    lease_seconds = 1.8
    spans: list[tuple[str, float, float | None]] = []
    first, second = Timeline("A", spans), Timeline("B", spans)
    a = Elected("imap", first, leases=book, holder="A", lease_seconds=lease_seconds, clock=SystemClock())
    b = Elected("imap", second, leases=book, holder="B", lease_seconds=lease_seconds, clock=SystemClock())
    try:
        await a.start()
        await b.start()
        assert first.running and not second.running
        await private_postgres.stop()
        stopped_db = time.monotonic()
        await _wait_until(lambda: not first.running, lease_seconds * 2, "A never stopped its service")
        # A renewed at most a third of the period before the database stopped; its lease ends 2/3 after that
        assert spans[0][2] is not None and spans[0][2] - stopped_db < lease_seconds * 2 / 3
        assert a._task is not None and not a._task.done(), "A's competition died"
        await private_postgres.start()
        await _wait_until(lambda: first.running or second.running, lease_seconds * 4, "nobody runs it again")
        await asyncio.sleep(0)  # let a racing start land before looking
        assert first.running != second.running
    finally:
        await a.stop()
        await b.stop()
        await engine.dispose()
    closed = [(n, s, e if e is not None else time.monotonic()) for n, s, e in spans]
    for (n1, _, e1), (n2, s2, _) in itertools.pairwise(closed):
        assert n1 == n2 or s2 >= e1, f"{n1} and {n2} ran at once: {closed}"
