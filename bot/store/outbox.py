"""The delivery outbox's rows: a message for a person queued in the caller's transaction, what is still
waiting, and where each went for the ticket page (on their channel, kept for their next visit, seen when they
came back, or mailed to their verified address). The retry loop that sends them is
``bot.officer.outbox.DeliveryOutbox``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.channels import ChannelName
from bot.messages import OutboundMessage
from bot.store.officer_models import DeliveryRoute, PendingDelivery

EXCERPT_CHARS = 80


@dataclass(frozen=True)
class DeliveryRecord:
    """One message for the person and where it went."""

    queued_at: datetime
    channel: ChannelName
    excerpt: str
    route: DeliveryRoute | None
    delivered_at: datetime | None
    fallback_at: datetime | None
    mailed_at: datetime | None
    last_error: str | None

    @property
    def waiting(self) -> bool:
        """Not yet accepted by the channel nor mailed."""
        return self.delivered_at is None


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

    async def deliveries(self, *, reference: str) -> list[DeliveryRecord]:
        """Every message queued for the requester of ``reference``, oldest first."""
        rows = await self.session.scalars(
            select(PendingDelivery)
            .where(PendingDelivery.ticket_reference == reference)
            .order_by(PendingDelivery.id)
        )
        return [
            DeliveryRecord(
                queued_at=row.created_at,
                channel=row.channel,
                excerpt=_excerpt(row.text),
                route=row.route,
                delivered_at=row.delivered_at,
                fallback_at=row.fallback_at,
                mailed_at=row.fallback_sent_at if row.route is DeliveryRoute.EMAIL_FALLBACK else None,
                last_error=row.last_error,
            )
            for row in rows
        ]


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT_CHARS else flat[: EXCERPT_CHARS - 1] + "…"
