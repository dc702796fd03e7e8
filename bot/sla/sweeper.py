"""The SLA sweeper: reminds the officer before each watched deadline (the first response, the due date or
its extension; see bot/sla/clocks.py) and escalates once one passed.

Each sweep (1) claims due milestones as ``sla_notifications`` rows — INSERT … ON CONFLICT DO NOTHING on the
unique (ticket_id, kind), committed before anything is sent — and (2) leases unsent rows, notifies, and marks
them sent. A restart repeats nothing that was marked sent; two sweepers on one PostgreSQL never lease the same
row (UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)); a failed send is leased again after
``retry_delay``. Only due rows are read: ``tickets.sla_check_at`` (indexed) says when a ticket next matters.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.clock import Clock
from bot.sla.clocks import due_milestones, next_sla_check, parse_key, still_watched
from bot.sla.deadlines import SlaEventKind, SlaTerms
from bot.sla.notifier import NotificationFailed, OfficerNotifier, SlaEvent
from bot.sla.retention import RetentionPurge
from bot.store.claims import lease, run_periodically
from bot.store.db import dialect_insert, is_postgres
from bot.store.models import SlaNotification, Ticket, TicketEvent, TicketEventKind
from policy.document import PolicyFormatError
from policy.retention import RetentionNotStated

log = logging.getLogger(__name__)

SWEEPER = "sla-sweeper"


@dataclass(frozen=True)
class SweepReport:
    """What one sweep did: milestones claimed, notifications sent, sends that failed (to be retried)."""

    claimed: int = 0
    sent: int = 0
    failed: int = 0
    claim_seconds: float = 0.0
    deliver_seconds: float = 0.0


class SlaSweeper:
    """Run :meth:`run` as a task with a stop event, or call :meth:`sweep_once` (tests, cron, benchmarks)."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        notifier: OfficerNotifier,
        clock: Clock,
        terms: SlaTerms,
        interval_seconds: float = 60.0,
        batch_size: int = 500,
        lease: timedelta = timedelta(minutes=5),
        retry_delay: timedelta = timedelta(minutes=1),
        concurrency: int = 8,
        retention: RetentionPurge | None = None,
        retention_every: timedelta = timedelta(hours=1),
    ) -> None:
        """Sweep through ``sessionmaker``'s database and tell ``notifier``; run the ``retention`` purge
        every ``retention_every``."""
        self._sessionmaker = sessionmaker
        self._notifier = notifier
        self._clock = clock
        self._terms = terms
        self._interval = interval_seconds
        self._batch = batch_size
        self._lease = lease
        self._retry_delay = retry_delay
        self._concurrency = concurrency
        self._postgres = False
        self._retention = retention
        self._retention_every = retention_every
        self._retention_due: datetime | None = None

    async def run(self, stop_event: asyncio.Event) -> None:
        """Sweep every ``interval_seconds`` until ``stop_event`` is set; a database outage is logged and
        the next sweep tries again."""

        async def sweep() -> None:
            report = await self.sweep_once()
            if report.claimed or report.sent or report.failed:
                log.info(
                    "SLA sweep: %d claimed, %d sent, %d failed",
                    report.claimed,
                    report.sent,
                    report.failed,
                )
            await self.purge_if_due()

        await run_periodically(sweep, stop_event, interval_seconds=self._interval, failure="SLA sweep failed")

    async def purge_if_due(self) -> bool:
        """Run the retention purge when it is due (at the first sweep, then every ``retention_every``);
        a purge that fails is logged and tried again at the next sweep."""
        now = self._clock.now()
        if self._retention is None or (self._retention_due is not None and now < self._retention_due):
            return False
        try:
            await self._retention.purge()
        except (SQLAlchemyError, OSError, RetentionNotStated, PolicyFormatError):
            log.exception("retention purge failed; retrying at the next sweep")
            return False
        self._retention_due = now + self._retention_every
        return True

    async def sweep_once(self) -> SweepReport:
        """Claim every milestone due now, then send every unsent, unleased notification."""
        started = time.perf_counter()
        claimed = 0
        while True:
            count, full = await self._claim_batch()
            claimed += count
            if not full:
                break
        claimed_at = time.perf_counter()
        sent = failed = 0
        limit = asyncio.Semaphore(self._concurrency if self._postgres else 1)  # SQLite has one writer
        while True:
            leased, full = await self._lease_batch()
            outcomes = await asyncio.gather(
                *(self._deliver(leased_id, event, limit) for leased_id, event in leased)
            )
            sent += sum(outcomes)
            failed += len(outcomes) - sum(outcomes)
            if not full:
                break
        done = time.perf_counter()
        return SweepReport(claimed, sent, failed, claimed_at - started, done - claimed_at)

    async def _claim_batch(self) -> tuple[int, bool]:
        """Insert the latest passed milestone of a batch of due tickets and move their ``sla_check_at`` on."""
        now = self._clock.now()
        async with self._sessionmaker() as session, session.begin():
            self._postgres = is_postgres(session)
            query = (
                select(Ticket)
                .where(Ticket.sla_check_at <= now)
                .order_by(Ticket.sla_check_at, Ticket.id)
                .limit(self._batch)
            )
            if is_postgres(session):
                query = query.with_for_update(skip_locked=True)
            tickets = list((await session.scalars(query)).all())
            rows: list[dict[str, Any]] = []
            for ticket in tickets:
                rows.extend(
                    {
                        "ticket_id": ticket.id,
                        "kind": milestone.key,
                        "due_at": milestone.at,
                        "created_at": now,
                        "attempts": 0,
                    }
                    for milestone in due_milestones(ticket, self._terms, now)
                )
                ticket.sla_check_at = next_sla_check(ticket, self._terms, now)
            if rows:
                insert = dialect_insert(session, SlaNotification).values(rows)
                await session.execute(insert.on_conflict_do_nothing(index_elements=["ticket_id", "kind"]))
        return len(rows), len(tickets) == self._batch

    async def _lease_batch(self) -> tuple[list[tuple[int, SlaEvent]], bool]:
        """Lease unsent notifications nobody else holds, committed before any is sent; returns the events
        to send (notifications of answered or closed tickets are closed here, unsent) and whether the batch
        was full."""
        now = self._clock.now()
        async with self._sessionmaker() as session, session.begin():
            result = await lease(
                session,
                SlaNotification,
                unsent=SlaNotification.sent_at.is_(None),
                now=now,
                lease_for=self._lease,
                limit=self._batch,
                returning=(SlaNotification.id, SlaNotification.kind, SlaNotification.ticket_id),
            )
            leased = {row.id: (row.kind, row.ticket_id) for row in result}
            if not leased:
                return [], False
            tickets = {
                ticket.id: ticket
                for ticket in await session.scalars(
                    select(Ticket).where(Ticket.id.in_({ticket_id for _, ticket_id in leased.values()}))
                )
            }
            events: list[tuple[int, SlaEvent]] = []
            obsolete: list[int] = []
            for notification_id, (kind, ticket_id) in sorted(leased.items()):
                ticket = tickets[ticket_id]
                if not still_watched(kind, ticket, self._terms):
                    obsolete.append(notification_id)
                else:
                    events.append((notification_id, _event(kind, ticket, now)))
            if obsolete:
                await session.execute(
                    update(SlaNotification)
                    .where(SlaNotification.id.in_(obsolete))
                    .values(sent_at=now, last_error="obsolete: answered, closed or extended")
                )
        return events, len(leased) == self._batch

    async def _deliver(self, notification_id: int, event: SlaEvent, limit: asyncio.Semaphore) -> bool:
        """Notify the officer of one leased notification, then mark it sent; False when the send failed."""
        async with limit, self._sessionmaker() as session:
            try:
                await self._notifier.notify(event)
            except NotificationFailed as exc:
                log.warning(
                    "SLA %s for %s not delivered (%s); retrying later",
                    event.key,
                    event.reference,
                    type(exc).__name__,
                )
                async with session.begin():
                    await session.execute(
                        update(SlaNotification)
                        .where(SlaNotification.id == notification_id)
                        .values(lease_until=self._clock.now() + self._retry_delay, last_error=str(exc)[:200])
                    )
                return False
            async with session.begin():
                now = self._clock.now()
                await session.execute(
                    update(SlaNotification)
                    .where(SlaNotification.id == notification_id)
                    .values(sent_at=now, last_error=None)
                )
                breach = event.kind is SlaEventKind.BREACH
                session.add(
                    TicketEvent(
                        ticket_id=event.ticket_id,
                        at=now,
                        actor=SWEEPER,
                        event=TicketEventKind.SLA_BREACH if breach else TicketEventKind.SLA_REMINDER,
                        detail={
                            "kind": event.key,
                            "deadline": event.deadline.value,
                            "due": event.deadline_at.isoformat(),
                        },
                    )
                )
            log.info("SLA %s sent for ticket %s", event.key, event.reference)
            return True


def _event(kind: str, ticket: Ticket, now: datetime) -> SlaEvent:
    """The event the officer is told about."""
    milestone = parse_key(kind)
    return SlaEvent(
        kind=milestone.kind,
        key=kind,
        ticket_id=ticket.id,
        reference=ticket.reference,
        ticket_kind=ticket.kind,
        priority=ticket.priority,
        status=ticket.status,
        created_at=ticket.created_at,
        first_response_due=ticket.first_response_due,
        due_at=ticket.extended_until or ticket.due_at,
        hours_before=milestone.hours_before,
        assignee=ticket.assignee,
        at=now,
        deadline=milestone.deadline,
    )
