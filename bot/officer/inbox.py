"""The officers' live inbox feed: every new audit-trail entry (a new ticket, a message from the person, a
reply, a status change, an SLA reminder or breach) is published to the open dashboards as a small event.

It reads ``ticket_events`` after the last id it saw, so it works the same whichever process wrote the
event; the dashboards re-read the queue or the ticket when told. Events name the ticket, never text or
addresses.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.store.claims import run_periodically
from bot.store.models import Ticket, TicketEvent

INBOX_TOPIC = "officer:inbox"
Publish = Callable[[dict[str, Any]], Awaitable[object]]


class InboxFeed:
    """Publishes new ticket events through ``publish``; :meth:`run` polls every ``interval_seconds``."""

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

    async def poll_once(self) -> int:
        """Publish the events written since the last poll (the first poll only sets the starting point)."""
        async with self._sessionmaker() as session:
            if self._cursor is None:
                self._cursor = int(await session.scalar(select(func.max(TicketEvent.id))) or 0)
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

    async def run(self, stop_event: asyncio.Event) -> None:
        """Poll until ``stop_event`` is set."""

        async def step() -> None:
            await self.poll_once()

        await run_periodically(
            step, stop_event, interval_seconds=self._interval, failure="officer inbox poll failed"
        )
