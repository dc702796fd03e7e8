"""Where each message for a person went, for the ticket page: on their channel, kept for their next visit,
seen when they came back, or mailed to their verified address; or still waiting for the channel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.channels import ChannelName
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


async def deliveries_of(session: AsyncSession, *, reference: str) -> list[DeliveryRecord]:
    """Every message queued for the requester of ``reference``, oldest first."""
    rows = await session.scalars(
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
