"""The delivery outbox's rows: every message for a person that is sent after a commit (the replies of a
Telegram or email turn, an officer's reply, a status notice, a one-time code mail), queued in the
transaction that caused it; what is still waiting; and where each went for the ticket page (on their
channel, kept for their next visit, seen when they came back, or mailed to their verified address).
The loop that sends them is ``bot.officer.outbox.DeliveryOutbox``.

Whoever commits a session that queued rows calls its ``after_commit`` hook (:func:`queued_in` tells): the
running server rings the drain's bell (``bot.deliveries.DeliveryBell``), so the rows go out at once
rather than at the drain's next round.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict, cast

from sqlalchemy import Table, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.channels import ChannelName
from bot.domain.clock import Clock
from bot.messages import OutboundMessage, QuickReply
from bot.store.officer_models import DeliveryRoute, PendingDelivery

EXCERPT_CHARS = 80
# The table itself, for a turn store's ``add_rows`` (a declarative model's ``__table__`` is a Table).
OUTBOX_TABLE = cast(Table, PendingDelivery.__table__)
_QUEUED = "delivery_outbox.queued"  # the session.info flag set by enqueue

# Called once a transaction that queued deliveries committed (the drain's bell, or a test's flush).
AfterCommit = Callable[[], Awaitable[object]]


class MessagePart(TypedDict):
    """One message of a delivery row, as stored in ``PendingDelivery.parts``."""

    text: str
    quick_replies: list[list[str]]
    ticket_reference: str | None
    other_references: list[str]
    meta: dict[str, str]
    lang: str


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


def part_of(message: OutboundMessage) -> MessagePart:
    """What a row keeps of ``message`` (its channel and recipient are the row's)."""
    return MessagePart(
        text=message.text,
        quick_replies=[[choice.payload, choice.label] for choice in message.quick_replies],
        ticket_reference=message.ticket_reference,
        other_references=list(message.other_references),
        meta=dict(message.meta),
        lang=message.lang,
    )


def messages_of(row: PendingDelivery) -> tuple[OutboundMessage, ...]:
    """The messages a queued row stands for, in order (one, from ``text`` and ``meta``, on an old row)."""
    if row.parts is None:
        meta = {key: str(value) for key, value in (row.meta or {}).items()}
        return (OutboundMessage(row.channel, row.recipient_id, row.text, (), row.ticket_reference, meta),)
    return tuple(
        OutboundMessage(
            channel=row.channel,
            recipient_id=row.recipient_id,
            text=str(part["text"]),
            quick_replies=tuple(QuickReply(str(p), str(label)) for p, label in part["quick_replies"]),
            ticket_reference=part["ticket_reference"],
            meta={key: str(value) for key, value in part["meta"].items()},
            other_references=tuple(part["other_references"]),
            lang=str(part["lang"]),
        )
        for part in row.parts
    )


def delivery_row(
    *,
    messages: Sequence[OutboundMessage],
    now: datetime,
    ticket_reference: str | None = None,
    key: str | None = None,
    secret: bool = False,
    expires_at: datetime | None = None,
) -> dict[str, Any]:
    """The ``delivery_outbox`` row of one delivery: ``messages`` (one recipient's, in order), due ``now``.
    ``ticket_reference`` lists it on that ticket's page; ``key`` makes a second row with the same key fail
    (IntegrityError); a ``secret`` delivery is blanked once sent and dropped after ``expires_at``. A turn
    store writes it with the turn (``add_rows``); :meth:`OutboxRepository.enqueue` adds it to a session."""
    if not messages:
        raise ValueError("nothing to queue")
    first = messages[0]
    if any((m.channel, m.recipient_id) != (first.channel, first.recipient_id) for m in messages):
        raise ValueError("one delivery goes to one recipient on one channel")
    return {
        "ticket_reference": ticket_reference,
        "channel": first.channel,
        "recipient_id": first.recipient_id,
        "text": "\n\n".join(m.text for m in messages),
        "meta": dict(first.meta) or None,
        "parts": [dict(part_of(m)) for m in messages],
        "parts_sent": 0,
        "dedup_key": key,
        "secret": secret,
        "expires_at": expires_at,
        "created_at": now,
        "next_attempt_at": now,
        "attempts": 0,
    }


def queued_in(session: AsyncSession) -> bool:
    """True (once) when ``session`` queued deliveries since it was last asked: call after its commit."""
    return bool(session.info.pop(_QUEUED, False))


class OutboxRepository:
    """Queues and counts delivery-outbox rows in one session; never commits."""

    def __init__(self, session: AsyncSession) -> None:
        """Bind to ``session``."""
        self.session = session

    def enqueue(
        self,
        *,
        messages: Sequence[OutboundMessage],
        now: datetime,
        ticket_reference: str | None = None,
        key: str | None = None,
        secret: bool = False,
        expires_at: datetime | None = None,
    ) -> PendingDelivery:
        """Queue ``messages`` as one delivery in the caller's transaction (see :func:`delivery_row`); it
        goes out once that commits. Nothing is sent to the database until the next flush."""
        row = PendingDelivery(
            **delivery_row(
                messages=messages,
                now=now,
                ticket_reference=ticket_reference,
                key=key,
                secret=secret,
                expires_at=expires_at,
            )
        )
        self.session.add(row)
        self.session.info[_QUEUED] = True
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


class DeliveryQueue:
    """Queues a delivery outside any turn, in a transaction of its own (the email channel's notice about a
    mail over a cap), then calls ``after_commit``."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        clock: Clock,
        after_commit: AfterCommit | None = None,
    ) -> None:
        """Write to ``sessionmaker``'s database."""
        self._sessionmaker = sessionmaker
        self._clock = clock
        self._after_commit = after_commit

    async def queue(self, messages: Sequence[OutboundMessage], *, key: str) -> bool:
        """Queue ``messages`` as one delivery named ``key``; False (nothing queued) when ``key`` was queued
        before, so doing it again after a crash sends it once."""
        try:
            async with self._sessionmaker() as session, session.begin():
                OutboxRepository(session).enqueue(messages=messages, now=self._clock.now(), key=key)
        except IntegrityError as exc:
            if "dedup_key" not in str(exc.orig).lower():
                raise
            return False
        if self._after_commit is not None:
            await self._after_commit()
        return True


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT_CHARS else flat[: EXCERPT_CHARS - 1] + "…"
