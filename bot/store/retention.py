"""What the retention purge removes, as queries: transcripts, codes, the delivery outbox's copies of what was
sent, and the personal fields of closed tickets older than a cutoff. The audit trail (ticket_events) is
append-only and stays as it is."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import Conversation, Message, RetentionRun, Ticket, VerificationCode
from bot.store.officer_models import PendingDelivery
from bot.store.tickets import OPEN_STATUSES

REMOVED = "removed"


@dataclass(frozen=True)
class RetentionCounts:
    """How many of each kind of record a purge removes (or would remove)."""

    conversations: int = 0
    messages: int = 0
    codes: int = 0
    closed_tickets: int = 0
    deliveries: int = 0

    def as_dict(self) -> dict[str, int]:
        """For the audit entry and the report."""
        return asdict(self)


def _has_open_ticket() -> Any:
    return exists().where(Ticket.conversation_id == Conversation.id, Ticket.status.in_(OPEN_STATUSES))


class RetentionRepository:
    """Counts and removes expired records in one session; never commits."""

    def __init__(self, session: AsyncSession) -> None:
        """Bind to ``session``."""
        self.session = session

    async def _count(self, query: Any) -> int:
        return int(await self.session.scalar(select(func.count()).select_from(query.subquery())) or 0)

    def _queries(self, cutoff: datetime) -> dict[str, Any]:
        idle = select(Conversation.id).where(Conversation.updated_at < cutoff, ~_has_open_ticket())
        return {
            "conversations": idle,
            "messages": select(Message.id).where(
                Message.at < cutoff,
                ~exists().where(
                    Ticket.conversation_id == Message.conversation_id, Ticket.status.in_(OPEN_STATUSES)
                ),
            ),
            "codes": select(VerificationCode.id).where(VerificationCode.sent_at < cutoff),
            "closed_tickets": select(Ticket.id).where(
                Ticket.status.not_in(OPEN_STATUSES),
                Ticket.closed_at < cutoff,
                Ticket.requester_sender_id != REMOVED,
            ),
            # Outbox rows are copies of messages sent (or never sendable): they go with the transcripts,
            # except those of a ticket still open (its page lists them).
            "deliveries": select(PendingDelivery.id).where(
                PendingDelivery.created_at < cutoff,
                ~exists().where(
                    Ticket.reference == PendingDelivery.ticket_reference, Ticket.status.in_(OPEN_STATUSES)
                ),
            ),
        }

    async def expired(self, *, cutoff: datetime) -> RetentionCounts:
        """What a purge at ``cutoff`` would remove."""
        counts = {name: await self._count(query) for name, query in self._queries(cutoff).items()}
        return RetentionCounts(**counts)

    async def purge(self, *, cutoff: datetime) -> RetentionCounts:
        """Remove transcripts, codes and outbox rows older than ``cutoff`` (except those of a conversation
        or ticket still open) and anonymise the closed tickets; returns what went."""
        counts = await self.expired(cutoff=cutoff)
        queries = self._queries(cutoff)
        await self.session.execute(delete(Message).where(Message.id.in_(queries["messages"])))
        await self.session.execute(delete(VerificationCode).where(VerificationCode.id.in_(queries["codes"])))
        await self.session.execute(
            delete(PendingDelivery)
            .where(PendingDelivery.id.in_(queries["deliveries"]))
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(
            update(Ticket)
            .where(Ticket.id.in_(queries["closed_tickets"]))
            .values(
                requester_address=None,
                requester_sender_id=REMOVED,
                thread_meta=None,
                conversation_id=None,
                account_id=None,
                requester_key="ticket:" + Ticket.reference,
            )
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(
            delete(Conversation)
            .where(Conversation.id.in_(queries["conversations"]))
            .execution_options(synchronize_session=False)
        )
        return counts

    def record_run(
        self, *, at: datetime, actor: str, periods: dict[str, Any], removed: RetentionCounts
    ) -> None:
        """The audit entry of one purge."""
        self.session.add(RetentionRun(at=at, actor=actor, periods=periods, removed=removed.as_dict()))
