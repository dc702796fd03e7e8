"""The alert feed: turns audit-trail entries the officer must hear about into notifications.

The ticket services already write every new ticket (``opened``) and every message relayed during a handoff
(``requester_message``) to the append-only ``ticket_events``; this feed polls them, claims each one once as
an ``officer_alerts`` row (unique per event, INSERT … ON CONFLICT DO NOTHING, committed before sending), then
leases and sends unsent rows — so a restart repeats nothing that was sent and a failed send is retried.
Only events of the last ``lookback`` are considered, which keeps the poll cheap and a fresh install quiet.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.clock import Clock
from bot.officer.notifications import PartlyNotified, TicketAlert
from bot.sla.notifier import NotificationFailed
from bot.store.claims import lease, run_periodically
from bot.store.db import dialect_insert
from bot.store.models import Ticket, TicketEvent, TicketEventKind
from bot.store.officer_models import AlertKind, OfficerAlert
from bot.tickets.handoff import handed_over

log = logging.getLogger(__name__)

ALERTED_EVENTS = {
    TicketEventKind.OPENED: AlertKind.NEW_TICKET,
    TicketEventKind.REQUESTER_MESSAGE: AlertKind.REQUESTER_MESSAGE,
}


class AlertSink(Protocol):
    """Where alerts go (``OfficerNotifications``)."""

    async def alert(self, alert: TicketAlert, *, skip: frozenset[str] = frozenset()) -> None:
        """Deliver ``alert`` except to the targets in ``skip``; raise NotificationFailed to have it retried
        (PartlyNotified names the targets that got it)."""
        ...


@dataclass(frozen=True)
class FeedReport:
    """What one poll did."""

    claimed: int = 0
    sent: int = 0
    failed: int = 0


class AlertFeed:
    """Run :meth:`run` as a background task, or call :meth:`poll_once` (tests)."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        sink: AlertSink,
        clock: Clock,
        interval_seconds: float = 3.0,
        lookback: timedelta = timedelta(days=1),
        lease: timedelta = timedelta(minutes=2),
        retry_delay: timedelta = timedelta(minutes=1),
        batch_size: int = 200,
    ) -> None:
        """Poll ``sessionmaker``'s database and tell ``sink``."""
        self._sessionmaker = sessionmaker
        self._sink = sink
        self._clock = clock
        self._interval = interval_seconds
        self._lookback = lookback
        self._lease = lease
        self._retry_delay = retry_delay
        self._batch = batch_size

    async def run(self, stop_event: asyncio.Event) -> None:
        """Poll every ``interval_seconds`` until ``stop_event`` is set; a database outage is logged."""

        async def poll() -> None:
            report = await self.poll_once()
            if report.failed:
                log.warning("officer alerts: %d sent, %d failed", report.sent, report.failed)

        await run_periodically(
            poll, stop_event, interval_seconds=self._interval, failure="officer alert poll failed"
        )

    async def poll_once(self) -> FeedReport:
        """Claim new events, then send every unsent, unleased alert."""
        claimed = 0
        while True:
            count = await self._claim()
            claimed += count
            if count < self._batch:
                break
        sent = failed = 0
        while True:
            leased = await self._lease_batch()
            for alert_id in leased:
                if await self._send(alert_id):
                    sent += 1
                else:
                    failed += 1
            if len(leased) < self._batch:
                return FeedReport(claimed, sent, failed)

    async def _claim(self) -> int:
        now = self._clock.now()
        claimed = exists().where(OfficerAlert.ticket_event_id == TicketEvent.id)
        query = (
            select(TicketEvent.id, TicketEvent.ticket_id, TicketEvent.event)
            .where(
                TicketEvent.event.in_(list(ALERTED_EVENTS)), TicketEvent.at >= now - self._lookback, ~claimed
            )
            .order_by(TicketEvent.id)
            .limit(self._batch)
        )
        async with self._sessionmaker() as session, session.begin():
            found = (await session.execute(query)).all()
            rows: list[dict[str, Any]] = [
                {
                    "ticket_event_id": event_id,
                    "ticket_id": ticket_id,
                    "kind": ALERTED_EVENTS[event].value,
                    "created_at": now,
                    "attempts": 0,
                }
                for event_id, ticket_id, event in found
            ]
            if rows:
                insert = dialect_insert(session, OfficerAlert).values(rows)
                await session.execute(insert.on_conflict_do_nothing(index_elements=["ticket_event_id"]))
        return len(rows)

    async def _lease_batch(self) -> list[int]:
        now = self._clock.now()
        async with self._sessionmaker() as session, session.begin():
            result = await lease(
                session,
                OfficerAlert,
                unsent=OfficerAlert.sent_at.is_(None),
                now=now,
                lease_for=self._lease,
                limit=self._batch,
            )
            return sorted(result.scalars().all())

    async def _send(self, alert_id: int) -> bool:
        """Tell the sink about one leased alert; True when it went out."""
        async with self._sessionmaker() as session:
            row = await session.get(OfficerAlert, alert_id)
            event = await session.get(TicketEvent, row.ticket_event_id) if row else None
            ticket = await session.get(Ticket, row.ticket_id) if row else None
            if row is None or event is None or ticket is None:
                return False
            alert = TicketAlert(
                kind=row.kind,
                reference=ticket.reference,
                ticket_kind=ticket.kind,
                channel=ticket.channel,
                priority=ticket.priority,
                status=ticket.status,
                identity_status=ticket.identity_status,
                created_at=ticket.created_at,
                first_response_due=ticket.first_response_due,
                handoff=await handed_over(session, ticket) is not None,
                text=str(event.detail.get("text", "")) if row.kind is AlertKind.REQUESTER_MESSAGE else None,
            )
            skip = frozenset(filter(None, (row.sent_to or "").split(",")))
        error: str | None = None
        values: dict[str, Any] = {}
        try:
            await self._sink.alert(alert, skip=skip)
        except NotificationFailed as exc:
            error = str(exc)[:200] or "failed"
            if isinstance(exc, PartlyNotified):
                values["sent_to"] = ",".join(sorted(exc.sent))
        now = self._clock.now()
        values.update(
            {"sent_at": now, "lease_until": None, "last_error": None}
            if error is None
            else {"lease_until": now + self._retry_delay, "last_error": error}
        )
        async with self._sessionmaker() as session, session.begin():
            await session.execute(update(OfficerAlert).where(OfficerAlert.id == alert_id).values(**values))
        if error is None:
            log.info("officer told about %s on %s", alert.kind.value, alert.reference)
        return error is None
