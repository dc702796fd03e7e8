"""The delivery outbox's rows: a message for a person queued in the caller's transaction, and what is still
waiting (the retry loop that sends them is ``bot.officer.outbox.DeliveryOutbox``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.messages import OutboundMessage
from bot.store.officer_models import PendingDelivery


class OutboxRepository:
    """Queues and counts delivery-outbox rows in one session; never commits."""

    def __init__(self, session: AsyncSession) -> None:
        """Bind to ``session``."""
        self.session = session

    def enqueue(self, *, message: OutboundMessage, now: datetime) -> PendingDelivery:
        """Queue ``message`` in the caller's transaction (delivered once that commits)."""
        row = PendingDelivery(
            ticket_reference=message.ticket_reference,
            channel=message.channel,
            recipient_id=message.recipient_id,
            text=message.text,
            meta=dict(message.meta) or None,
            created_at=now,
            next_attempt_at=now,
            attempts=0,
        )
        self.session.add(row)
        return row

    async def undelivered(self, *, reference: str) -> int:
        """How many messages of ticket ``reference`` no channel has accepted yet."""
        count = await self.session.scalar(
            select(func.count(PendingDelivery.id)).where(
                PendingDelivery.ticket_reference == reference, PendingDelivery.delivered_at.is_(None)
            )
        )
        return int(count or 0)
