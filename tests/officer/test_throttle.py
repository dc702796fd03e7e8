"""The officer sign-in throttle over the real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.officer.throttle import ACCOUNT_RULE, SignInThrottle
from bot.store.db import create_sessionmaker
from tests.support.database import FrozenClock

OFFICER = "ana@zynorlink.example"


async def test_concurrent_tries_are_counted_before_any_is_checked(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """Regression (counted after the argon2 check): of 40 simultaneous tries exactly the five free ones may
    go ahead; the others are told to wait."""
    throttle = SignInThrottle(sessionmaker, clock=clock)
    waits = await asyncio.gather(*(throttle.claim(account=OFFICER, client="203.0.113.9") for _ in range(40)))
    assert waits.count(0) == ACCOUNT_RULE.free_failures
    assert all(wait >= 1 for wait in waits if wait)


async def test_the_count_survives_a_restart(
    engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """Regression (kept in memory): a new throttle on a new session factory, as after a restart or in
    another worker, sees the earlier failures."""
    for _ in range(5):
        assert await SignInThrottle(sessionmaker, clock=clock).claim(account=OFFICER, client="a") == 0
    restarted = SignInThrottle(create_sessionmaker(engine), clock=clock)
    assert await restarted.claim(account=OFFICER, client="b") > 0


async def test_the_real_officer_is_slowed_down_not_locked_out(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """An attacker guessing the officer's password from ever new addresses makes every try wait, but never
    longer than 30 s; after the wait the real officer gets through and a right password clears the count."""
    throttle = SignInThrottle(sessionmaker, clock=clock)
    for attacker in range(200):
        wait = await throttle.claim(account=OFFICER, client=f"198.51.100.{attacker}")
        assert wait <= 30
        clock.advance(seconds=wait)
    clock.advance(seconds=30)
    assert await throttle.claim(account=OFFICER, client="192.0.2.1") == 0
    await throttle.succeeded(account=OFFICER, client="192.0.2.1")
    assert [await throttle.claim(account=OFFICER, client="192.0.2.1") for _ in range(5)] == [0] * 5


async def test_one_client_guessing_many_accounts_is_slowed_down(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """Per client address: ten tries on ten different accounts are free, the eleventh waits, and the
    waits grow with every further failure (up to 15 minutes)."""
    throttle = SignInThrottle(sessionmaker, clock=clock)
    for number in range(10):
        assert await throttle.claim(account=f"officer{number}@zynorlink.example", client="203.0.113.7") == 0
    assert await throttle.claim(account="other@zynorlink.example", client="203.0.113.7") == 5
    waits = []
    for _ in range(12):
        clock.advance(timedelta(minutes=15))
        assert await throttle.claim(account="x@zynorlink.example", client="203.0.113.7") == 0
        waits.append(await throttle.claim(account="y@zynorlink.example", client="203.0.113.7"))
    assert waits == sorted(waits) and waits[-1] == 15 * 60
