"""The officers' live inbox feed: every new audit-trail entry (a new ticket, a message from the person, a
reply, a status change, an SLA reminder or breach) is published to the open dashboards as a small event.

It reads ``ticket_events`` after the last id it saw, so it works the same whichever process wrote the
event. It runs on one worker at a time (elected, see ``bot.cluster.leases``) and publishes on the push bus,
so the dashboards open on every worker get each event once; a worker that takes the feed over goes on after
the last event it heard on the bus. The dashboards re-read the queue or the ticket when told. Events name
the ticket, never text or addresses.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.store.claims import run_periodically
from bot.store.models import Ticket, TicketEvent

INBOX_TOPIC = "officer:inbox"
Publish = Callable[[dict[str, Any]], Awaitable[object]]


class InboxFeed:
    """Publishes new ticket events through ``publish`` every ``interval_seconds`` while started."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        publish: Publish,
        interval_seconds: float = 1.0,
        batch_size: int = 200,
    ) -> None:
        """Read through ``sessionmaker``."""
        self._sessionmaker = sessionmaker
        self._publish = publish
        self._interval = interval_seconds
        self._batch = batch_size
        self._cursor: int | None = None
        self._heard = 0
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def heard(self, event: dict[str, Any]) -> None:
        """Note an event published by whichever worker runs the feed (where to go on after a takeover)."""
        event_id = event.get("id")
        if isinstance(event_id, int):
            self._heard = max(self._heard, event_id)

    async def poll_once(self) -> int:
        """Publish the events written since the last poll (the first poll only sets the starting point:
        the last event heard, else the newest stored)."""
        async with self._sessionmaker() as session:
            if self._cursor is None:
                newest = int(await session.scalar(select(func.max(TicketEvent.id))) or 0)
                self._cursor = self._heard or newest
                return 0
            rows = (
                await session.execute(
                    select(TicketEvent.id, TicketEvent.event, TicketEvent.at, Ticket.reference, Ticket.status)
                    .join(Ticket, Ticket.id == TicketEvent.ticket_id)
                    .where(TicketEvent.id > self._cursor)
                    .order_by(TicketEvent.id)
                    .limit(self._batch)
                )
            ).all()
        for event_id, event, at, reference, status in rows:
            self._cursor = event_id
            await self._publish(
                {
                    "id": event_id,
                    "reference": reference,
                    "event": event.value,
                    "status": status.value,
                    "at": at.isoformat(),
                }
            )
        return len(rows)

    async def start(self) -> None:
        """Set the starting point, then poll in the background until :meth:`stop`."""
        self._cursor = None
        await self.poll_once()
        self._stop.clear()
        self._task = asyncio.create_task(self.run(self._stop), name="officer-inbox")

    async def stop(self) -> None:
        """Stop polling (the poll in hand finishes)."""
        self._stop.set()
        task, self._task = self._task, None
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def run(self, stop_event: asyncio.Event) -> None:
        """Poll until ``stop_event`` is set."""

        async def step() -> None:
            await self.poll_once()

        await run_periodically(
            step, stop_event, interval_seconds=self._interval, failure="officer inbox poll failed"
        )
