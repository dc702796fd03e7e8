"""The delivery outbox, the one way out for every message sent after a commit: a delivery is written in the
same transaction as the change that caused it (a Telegram or email turn's replies, a one-time code mail,
an officer's reply, an extension, the end of a handoff), then handed to its channel. The drain runs at once
when a commit rings the bell and every ``interval_seconds`` besides (and first thing on start, so what a
crash left queued goes out). A refusal keeps the row queued with a growing delay, so nothing is lost: the
first retry comes after about a second, each next one after twice as long (jittered by a fifth either way, so
many rows refused together are not retried together), never longer than ``max_retry`` and never sooner than
the channel asked (Telegram's ``retry_after``); the drain wakes when the next retry is due.

Rows are leased (``lease_until``, SKIP LOCKED on PostgreSQL) before sending, so two processes never send
the same row at once; a crash mid-send makes the row due again when the lease ends. A delivery of several
messages counts how many went out (``parts_sent``), so a retry sends only the rest; email sends them as one
mail. A secret delivery (a one-time code) is blanked once sent, and dropped unsent once it expired.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import ColumnElement, func, null, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.deliveries import Deliveries, DeliveryBell
from bot.domain.channels import ChannelName
from bot.domain.clock import Clock, ensure_utc
from bot.domain.errors import DeliveryFailed
from bot.officer.fallback import EmailFallback
from bot.store.claims import lease, run_periodically
from bot.store.officer_models import DeliveryRoute, PendingDelivery
from bot.store.outbox import messages_of

log = logging.getLogger(__name__)

FIRST_RETRY = timedelta(seconds=1)
MAX_RETRY = timedelta(minutes=5)


@dataclass(frozen=True)
class OutboxReport:
    """What one flush did."""

    delivered: int = 0
    failed: int = 0
    kept: int = 0  # of the delivered: kept for the person's next visit (nobody saw them yet)


class DeliveryOutbox:
    """Sends queued messages through ``deliveries``; :meth:`run` retries in the background."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        deliveries: Deliveries,
        clock: Clock,
        interval_seconds: float = 15.0,
        lease: timedelta = timedelta(minutes=5),
        first_retry: timedelta = FIRST_RETRY,
        max_retry: timedelta = MAX_RETRY,
        jitter: float = 0.2,
        random_unit: Callable[[], float] = random.random,
        batch_size: int = 100,
        fallback: EmailFallback | None = None,
        bell: DeliveryBell | None = None,
        channels: frozenset[ChannelName] | None = None,
    ) -> None:
        """Deliver rows of ``sessionmaker``'s database through ``deliveries``; with ``fallback``, a message
        that does not reach its person in time is mailed to the ticket's verified address. :meth:`run`
        flushes at once when ``bell`` rings. ``channels`` limits it to the rows of those channels (a
        process that runs only some, such as the terminal chat, leaves the others to the server)."""
        self._sessionmaker = sessionmaker
        self._bell = bell
        self._only = (PendingDelivery.channel.in_(sorted(channels)),) if channels is not None else ()
        self._deliveries = deliveries
        self._fallback = fallback
        if fallback is not None:
            deliveries.on_return(fallback.seen)
        self._clock = clock
        self._interval = interval_seconds
        self._lease = lease
        self._first_retry = first_retry
        self._max_retry = max_retry
        self._jitter = jitter
        self._random = random_unit
        self._batch = batch_size

    def retry_delay(self, attempts: int, *, retry_after: float | None = None) -> timedelta:
        """The wait after the ``attempts``-th failure: doubling from ``first_retry``, moved by up to
        ``jitter`` of itself either way, at most ``max_retry``, and at least the ``retry_after`` seconds the
        channel asked for."""
        base = min(self._first_retry * (2 ** min(max(attempts - 1, 0), 32)), self._max_retry)
        delay = min(base * (1 + self._jitter * (2 * self._random() - 1)), self._max_retry)
        if retry_after is not None:
            delay = max(delay, timedelta(seconds=retry_after))
        return delay

    async def deliver_now(self, ids: Sequence[int]) -> OutboxReport:
        """Try the rows ``ids`` at once (just committed by a service), whatever their retry time."""
        if not ids:
            return OutboxReport()
        leased = await self._lease_rows(PendingDelivery.id.in_(list(ids)))
        return await self._send(leased)

    async def flush(self) -> OutboxReport:
        """Send every due row (one batch after another), then mail the fallbacks that are due."""
        delivered = failed = kept = 0
        while True:
            leased = await self._lease_rows(PendingDelivery.next_attempt_at <= self._clock.now())
            report = await self._send(leased)
            delivered += report.delivered
            failed += report.failed
            kept += report.kept
            if len(leased) < self._batch:
                break
        if self._fallback is not None:
            await self._fallback.send_due()
        return OutboxReport(delivered, failed, kept)

    async def pending(self) -> int:
        """How many messages wait for their channel."""
        async with self._sessionmaker() as session:
            query = select(PendingDelivery.id).where(PendingDelivery.delivered_at.is_(None))
            rows = await session.scalars(query)
            return len(rows.all())

    async def run(self, stop_event: asyncio.Event) -> None:
        """Flush every ``interval_seconds`` until ``stop_event`` is set; a database outage is logged."""

        async def flush_due() -> float | None:
            report = await self.flush()
            if report.delivered or report.failed:
                log.info("outbox: %d delivered, %d kept for retry", report.delivered, report.failed)
            return await self.seconds_to_next_retry()

        await run_periodically(
            flush_due,
            stop_event,
            interval_seconds=self._interval,
            failure="outbox flush failed",
            wake=self._bell.event if self._bell is not None else None,
        )

    async def seconds_to_next_retry(self) -> float | None:
        """Seconds until the earliest queued row that nobody holds is due (None: nothing is queued)."""
        now = self._clock.now()
        async with self._sessionmaker() as session:
            due = await session.scalar(
                select(func.min(PendingDelivery.next_attempt_at)).where(
                    PendingDelivery.delivered_at.is_(None),
                    or_(PendingDelivery.lease_until.is_(None), PendingDelivery.lease_until <= now),
                    *self._only,
                )
            )
        if due is None:
            return None
        return max((ensure_utc(due) - now).total_seconds(), 0.0)

    async def _lease_rows(self, condition: ColumnElement[bool]) -> list[PendingDelivery]:
        now = self._clock.now()
        async with self._sessionmaker() as session, session.begin():
            leased = await lease(
                session,
                PendingDelivery,
                unsent=PendingDelivery.delivered_at.is_(None),
                now=now,
                lease_for=self._lease,
                limit=self._batch,
                also=(condition, *self._only),
            )
            ids = leased.scalars().all()
            if not ids:
                return []
            rows = await session.scalars(
                select(PendingDelivery)
                .where(PendingDelivery.id.in_(list(ids)))
                .order_by(PendingDelivery.id)
                .execution_options(populate_existing=True)
            )
            return list(rows.all())

    async def _send(self, rows: Sequence[PendingDelivery]) -> OutboxReport:
        delivered = failed = kept = 0
        for row in rows:
            if row.expires_at is not None and self._clock.now() >= row.expires_at:
                await self._mark(row, error="expired before it could be sent", expired=True)
                continue
            messages = messages_of(row)[row.parts_sent :]
            sent = 0
            try:
                if messages and self._deliveries.delivers_together(row.channel):
                    await self._deliveries.deliver_together(messages, key=row.dedup_key)
                    sent = len(messages)
                for message in messages[sent:]:
                    await self._deliveries.deliver(message)
                    sent += 1
            except DeliveryFailed as exc:
                failed += 1
                await self._mark(row, error=exc.reason[:200], sent=sent, retry_after=exc.retry_after)
                log.warning(
                    "delivery %s on %s failed (%s); kept for retry", row.id, row.channel.value, exc.reason
                )
                continue
            delivered += 1
            reached = not messages or await self._deliveries.reaches_now(messages[0])
            kept += not reached
            await self._mark(row, error=None, reached=reached, sent=sent)
        return OutboxReport(delivered, failed, kept)

    async def _mark(
        self,
        row: PendingDelivery,
        *,
        error: str | None,
        reached: bool = True,
        sent: int = 0,
        expired: bool = False,
        retry_after: float | None = None,
    ) -> None:
        now = self._clock.now()
        row_id = row.id
        values: dict[str, object] = {
            "lease_until": None,
            "last_error": error,
            "parts_sent": row.parts_sent + sent,
        }
        if expired:
            values.update(delivered_at=now, route=DeliveryRoute.EXPIRED)
        elif error is None:
            values["delivered_at"] = now
            if row.route is None:
                values["route"] = DeliveryRoute.CHANNEL if reached else DeliveryRoute.KEPT_FOR_NEXT_VISIT
                if not reached and self._fallback is not None:
                    values["fallback_at"] = now + self._fallback.delay
        else:
            values["next_attempt_at"] = now + self.retry_delay(row.attempts, retry_after=retry_after)
            if self._fallback is not None and row.fallback_at is None and row.fallback_sent_at is None:
                values["fallback_at"] = row.created_at + self._fallback.delay
        if row.secret and (expired or error is None):  # a code is kept no longer than needed to send it
            values.update(text="", parts=null(), meta=null())
        async with self._sessionmaker() as session, session.begin():
            statement = update(PendingDelivery).where(PendingDelivery.id == row_id).values(**values)
            await session.execute(statement)
