"""Tickets and their append-only audit trail: the repository of the ticket service. Reads return frozen
views; the rows it returns (``by_reference``, ``find_open``, ``owned_by``) are for the service to change under
its lock."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, false, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.channels import ChannelName
from bot.domain.tickets import IdentityStatus, Priority, RequestKind, TicketStatus
from bot.store.codes import CodeRepository
from bot.store.conversations import ConversationRepository
from bot.store.models import OPEN_TICKET_INDEX, Ticket, TicketEvent, TicketEventKind
from bot.store.ticket_views import TicketDetail, TicketView, audit_entry, transcript_line, view_of

OPEN_STATUSES = tuple(status for status in TicketStatus if not status.is_closed)


class ReferenceTaken(Exception):
    """The generated reference already exists (astronomically rare; the caller draws another)."""


class OpenTicketExists(Exception):
    """The requester has an open ticket of this kind already (a racing request opened it meanwhile)."""


def priority_order() -> ColumnElement[int]:
    """Urgent first, then high, then normal."""
    return case((Ticket.priority == Priority.URGENT, 0), (Ticket.priority == Priority.HIGH, 1), else_=2)


def time_left_order() -> ColumnElement[datetime]:
    """The next deadline of a ticket: the first response while none was given, else the (extended) due."""
    return case(
        (Ticket.first_response_at.is_(None), Ticket.first_response_due),
        else_=func.coalesce(Ticket.extended_until, Ticket.due_at),
    )


class TicketRepository:
    """Reads and writes tickets and ticket events in one session; never commits."""

    def __init__(self, session: AsyncSession) -> None:
        """Bind to ``session``."""
        self.session = session

    async def insert(self, ticket: Ticket) -> Ticket:
        """Insert ``ticket``; raises ReferenceTaken when its reference collides."""
        try:
            async with self.session.begin_nested():
                self.session.add(ticket)
                await self.session.flush()
        except IntegrityError as exc:
            problem = str(exc.orig).lower()
            if OPEN_TICKET_INDEX in problem or "requester_key" in problem:
                raise OpenTicketExists(ticket.reference) from exc
            if "reference" in problem:
                raise ReferenceTaken(ticket.reference) from exc
            raise
        return ticket

    async def by_reference(self, *, reference: str, for_update: bool = False) -> Ticket | None:
        """The ticket with this reference (locked for update on PostgreSQL when asked)."""
        query = select(Ticket).where(Ticket.reference == reference)
        if for_update:
            query = query.with_for_update()
        return (await self.session.scalars(query)).one_or_none()

    async def find_open(
        self, *, kind: RequestKind, address: str | None = None, conversation_id: str | None = None
    ) -> Ticket | None:
        """The oldest open ticket of ``kind`` for this verified address (else for this conversation)."""
        query = select(Ticket).where(Ticket.kind == kind, Ticket.status.in_(OPEN_STATUSES))
        if address is not None:
            query = query.where(
                Ticket.requester_address == address, Ticket.identity_status == IdentityStatus.VERIFIED
            )
        elif conversation_id is not None:
            query = query.where(Ticket.conversation_id == conversation_id)
        else:
            return None
        return (await self.session.scalars(query.order_by(Ticket.created_at, Ticket.id).limit(1))).first()

    def _owned(
        self, *, conversation_id: str, channel: ChannelName, sender_id: str, addresses: Collection[str]
    ) -> ColumnElement[bool]:
        verified: ColumnElement[bool] = false()
        if addresses:
            verified = Ticket.requester_address.in_(list(addresses)) & (
                Ticket.identity_status == IdentityStatus.VERIFIED
            )
        return or_(
            Ticket.conversation_id == conversation_id,
            (Ticket.channel == channel) & (Ticket.requester_sender_id == sender_id),
            verified,
        )

    async def owned_by(
        self,
        *,
        conversation_id: str,
        channel: ChannelName,
        sender_id: str,
        addresses: Collection[str],
        reference: str | None = None,
    ) -> list[Ticket]:
        """Tickets this person owns (same conversation, same channel and sender, or a verified address)."""
        query = select(Ticket).where(
            self._owned(
                conversation_id=conversation_id, channel=channel, sender_id=sender_id, addresses=addresses
            )
        )
        if reference is not None:
            query = query.where(Ticket.reference == reference)
        rows = await self.session.scalars(query.order_by(Ticket.created_at.desc(), Ticket.id.desc()))
        return list(rows.all())

    async def proven_addresses(self, *, conversation_id: str) -> set[str]:
        """Addresses the conversation proved: by a code, on its own tickets, or kept in its dialogue state."""
        addresses = await CodeRepository(self.session).verified_addresses(conversation_id=conversation_id)
        rows = await self.session.scalars(
            select(Ticket.requester_address).where(
                Ticket.conversation_id == conversation_id,
                Ticket.identity_status == IdentityStatus.VERIFIED,
                Ticket.requester_address.is_not(None),
            )
        )
        addresses |= {address for address in rows.all() if address}
        conversation = await ConversationRepository(self.session).get(conversation_id=conversation_id)
        if conversation is not None:
            remembered = (conversation.state or {}).get("verified_address")
            if isinstance(remembered, str) and remembered:
                addresses.add(remembered.strip().lower())
        return addresses

    async def listing(
        self,
        *,
        statuses: Collection[TicketStatus],
        kinds: Collection[RequestKind] = (),
        channels: Collection[ChannelName] = (),
        limit: int = 200,
    ) -> list[TicketView]:
        """Views of the tickets in ``statuses`` (and ``kinds``, ``channels``): urgent first, then high, then
        normal, each by the least time left."""
        query = select(Ticket).where(Ticket.status.in_(list(statuses)))
        if kinds:
            query = query.where(Ticket.kind.in_(list(kinds)))
        if channels:
            query = query.where(Ticket.channel.in_(list(channels)))
        order = (priority_order(), time_left_order(), Ticket.id)
        rows = await self.session.scalars(query.order_by(*order).limit(limit))
        return [view_of(ticket) for ticket in rows.all()]

    def append_event(
        self,
        *,
        ticket: Ticket,
        at: datetime,
        actor: str,
        event: TicketEventKind,
        detail: dict[str, Any] | None = None,
    ) -> TicketEvent:
        """Add one entry to the audit trail (entries are never changed or removed)."""
        entry = TicketEvent(ticket_id=ticket.id, at=at, actor=actor, event=event, detail=detail or {})
        self.session.add(entry)
        return entry

    async def view(self, *, reference: str) -> TicketView | None:
        """The view of the ticket with this reference, or None."""
        ticket = await self.by_reference(reference=reference)
        return view_of(ticket) if ticket is not None else None

    async def detail(self, *, reference: str, transcript_limit: int = 500) -> TicketDetail | None:
        """The ticket with its audit trail (oldest first) and its conversation's transcript, or None."""
        ticket = await self.by_reference(reference=reference)
        if ticket is None:
            return None
        events = await self.session.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id)
        )
        messages = []
        if ticket.conversation_id:
            messages = await ConversationRepository(self.session).transcript(
                conversation_id=ticket.conversation_id, limit=transcript_limit
            )
        return TicketDetail(
            view_of(ticket),
            tuple(audit_entry(event) for event in events.all()),
            tuple(transcript_line(message) for message in messages),
        )

    async def latest_officer_action(self, *, since: datetime, not_by: Collection[str]) -> datetime | None:
        """When someone other than ``not_by`` last wrote to any audit trail, if after ``since``."""
        return await self.session.scalar(
            select(func.max(TicketEvent.at)).where(
                TicketEvent.at >= since, TicketEvent.actor.not_in(list(not_by))
            )
        )
