"""The one periodic-claim mechanism: a loop that runs a step every few seconds until stopped, and the lease
query that hands each unsent row to exactly one worker (the SLA sweeper, the alert feed, the delivery outbox).

A row is free when it is unsent and its lease, if any, has run out. Leasing sets ``lease_until`` and counts
the attempt in one UPDATE over the ids a sub-select picked; on PostgreSQL that sub-select skips rows another
worker holds locked (FOR UPDATE SKIP LOCKED), so two instances never lease the same row.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, CursorResult, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.db import is_postgres

log = logging.getLogger(__name__)


MIN_WAIT_SECONDS = 0.05


async def run_periodically(
    step: Callable[[], Awaitable[float | None]],
    stop_event: asyncio.Event,
    *,
    interval_seconds: float,
    failure: str,
    wake: asyncio.Event | None = None,
) -> None:
    """Run ``step`` every ``interval_seconds`` until ``stop_event`` is set, and at once whenever ``wake``
    is set meanwhile (it is cleared before each round, so a wake during a round brings another). A step may
    return the seconds until it has work again (a retry due in 1 s): the next round comes then if that is
    sooner. A database outage is logged as ``failure`` and the next round tries again."""
    while not stop_event.is_set():
        if wake is not None:
            wake.clear()
        wait = interval_seconds
        try:
            sooner = await step()
        except (SQLAlchemyError, OSError):
            log.exception("%s; retrying in %.0f s", failure, interval_seconds)
        else:
            if sooner is not None:
                wait = min(wait, max(sooner, MIN_WAIT_SECONDS))
        await _wait_for_any(stop_event, wake, wait)


async def _wait_for_any(stop_event: asyncio.Event, wake: asyncio.Event | None, seconds: float) -> None:
    """Return when ``stop_event`` or ``wake`` is set, or after ``seconds``."""
    waiters = [asyncio.ensure_future(event.wait()) for event in (stop_event, wake) if event is not None]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


async def lease(
    session: AsyncSession,
    model: Any,
    *,
    unsent: ColumnElement[bool],
    now: datetime,
    lease_for: timedelta,
    limit: int,
    also: Sequence[ColumnElement[bool]] = (),
    returning: Sequence[Any] = (),
) -> CursorResult[Any]:
    """Lease up to ``limit`` free rows of ``model`` (free: ``unsent`` and not leased; picked only if ``also``
    holds too), oldest id first; the result returns ``returning`` (default: the ids)."""
    free = (unsent, or_(model.lease_until.is_(None), model.lease_until <= now))
    candidates = select(model.id).where(*free, *also).order_by(model.id).limit(limit)
    if is_postgres(session):
        candidates = candidates.with_for_update(skip_locked=True)
    result = await session.execute(
        update(model)
        .where(model.id.in_(candidates.scalar_subquery()), *free)
        .values(lease_until=now + lease_for, attempts=model.attempts + 1)
        .returning(*(returning or (model.id,)))
        .execution_options(synchronize_session=False)
    )
    return result  # type: ignore[return-value]
