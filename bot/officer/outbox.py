"""The delivery outbox: a message for a person is written in the same transaction as the change that caused
it (an officer's reply, an extension, the end of a handoff), then handed to its channel. A refusal keeps it
queued with a growing delay; a background task retries until the channel accepts it, so nothing is lost.

Rows are leased (``lease_until``) before sending, so two processes never send the same row at once; a crash
mid-send makes the row due again when the lease ends.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.deliveries import Deliveries
from bot.domain.clock import Clock
from bot.domain.errors import DeliveryFailed
from bot.messages import OutboundMessage
from bot.officer.fallback import EmailFallback
from bot.store.claims import lease, run_periodically
from bot.store.officer_models import DeliveryRoute, PendingDelivery

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutboxReport:
    """What one flush did."""

    delivered: int = 0
    failed: int = 0
    kept: int = 0  # of the delivered: kept for the person's next visit (nobody saw them yet)


def message_of(row: PendingDelivery) -> OutboundMessage:
    """The OutboundMessage a queued row stands for."""
    meta = {key: str(value) for key, value in (row.meta or {}).items()}
    return OutboundMessage(
        channel=row.channel,
        recipient_id=row.recipient_id,
        text=row.text,
        ticket_reference=row.ticket_reference,
        meta=meta,
    )


class DeliveryOutbox:
    """Sends queued messages through ``deliveries``; :meth:`run` retries in the background."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        deliveries: Deliveries,
        clock: Clock,
        interval_seconds: float = 15.0,
        lease: timedelta = timedelta(minutes=2),
        first_retry: timedelta = timedelta(seconds=30),
        max_retry: timedelta = timedelta(hours=1),
        batch_size: int = 100,
        fallback: EmailFallback | None = None,
    ) -> None:
        """Deliver rows of ``sessionmaker``'s database through ``deliveries``; with ``fallback``, a message
        that does not reach its person in time is mailed to the ticket's verified address."""
        self._sessionmaker = sessionmaker
        self._deliveries = deliveries
        self._fallback = fallback
        if fallback is not None:
            deliveries.on_return(fallback.seen)
        self._clock = clock
        self._interval = interval_seconds
        self._lease = lease
        self._first_retry = first_retry
        self._max_retry = max_retry
        self._batch = batch_size

    def retry_delay(self, attempts: int) -> timedelta:
        """The wait after the ``attempts``-th failure: doubling from ``first_retry`` up to ``max_retry``."""
        return min(self._first_retry * (2 ** max(attempts - 1, 0)), self._max_retry)

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

        async def flush_due() -> None:
            report = await self.flush()
            if report.delivered or report.failed:
                log.info("outbox: %d delivered, %d kept for retry", report.delivered, report.failed)

        await run_periodically(
            flush_due, stop_event, interval_seconds=self._interval, failure="outbox flush failed"
        )

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
                also=(condition,),
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
            message = message_of(row)
            try:
                await self._deliveries.deliver(message)
            except DeliveryFailed as exc:
                failed += 1
                await self._mark(row, error=exc.reason[:200])
                log.warning(
                    "delivery %s on %s failed (%s); kept for retry", row.id, row.channel.value, exc.reason
                )
                continue
            delivered += 1
            reached = await self._deliveries.reaches_now(message)
            kept += not reached
            await self._mark(row, error=None, reached=reached)
        return OutboxReport(delivered, failed, kept)

    async def _mark(self, row: PendingDelivery, *, error: str | None, reached: bool = True) -> None:
        now = self._clock.now()
        row_id = row.id
        values: dict[str, object] = {"lease_until": None, "last_error": error}
        if error is None:
            values["delivered_at"] = now
            if row.route is None:
                values["route"] = DeliveryRoute.CHANNEL if reached else DeliveryRoute.KEPT_FOR_NEXT_VISIT
                if not reached and self._fallback is not None:
                    values["fallback_at"] = now + self._fallback.delay
        else:
            values["next_attempt_at"] = now + self.retry_delay(row.attempts)
            if self._fallback is not None and row.fallback_at is None and row.fallback_sent_at is None:
                values["fallback_at"] = row.created_at + self._fallback.delay
        async with self._sessionmaker() as session, session.begin():
            statement = update(PendingDelivery).where(PendingDelivery.id == row_id).values(**values)
            await session.execute(statement)
