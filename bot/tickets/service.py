"""The officer's ticket services: each call is one transaction (the service owns it) and returns views.

Build one at start-up, ``TicketService(sessionmaker, clock=clock, terms=SlaTerms.from_settings(settings))``,
and pass it to the officer workspace and the command line.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.clock import Clock
from bot.domain.tickets import RequestKind, TicketStatus
from bot.sla.deadlines import SlaTerms
from bot.store.conversations import ConversationRepository
from bot.store.tickets import OPEN_STATUSES
from bot.tickets.book import TicketBook
from bot.tickets.references import canonical_reference
from bot.tickets.views import (
    DeadlineExtension,
    TicketDetail,
    TicketView,
    audit_entry,
    transcript_line,
    view_of,
)


class TicketService:
    """Officer-side operations on tickets, one transaction per call."""

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], *, clock: Clock, terms: SlaTerms
    ) -> None:
        """Use sessions from ``sessionmaker``; deadlines from ``clock`` and ``terms``."""
        self._sessionmaker = sessionmaker
        self._clock = clock
        self._terms = terms

    def _book(self, session: AsyncSession) -> TicketBook:
        return TicketBook(session, clock=self._clock, terms=self._terms)

    async def record_officer_reply(
        self, reference: str, officer: str, at: datetime | None = None
    ) -> TicketView:
        """An officer replied to the requester; the first reply sets ``first_response_at`` (once) and stops
        the first-response reminders. Raises TicketNotFound."""
        async with self._sessionmaker() as session, session.begin():
            book = self._book(session)
            ticket = await book.get(canonical_reference(reference), for_update=True)
            await book.record_officer_reply(ticket, officer=officer, at=at)
            return view_of(ticket)

    async def extend_deadline(self, reference: str, months: int, reason: str, by: str) -> DeadlineExtension:
        """Extend the resolution deadline by 1 or 2 months (2 in total at most), with the reason on the audit
        trail. The returned value carries what the requester must be told. Raises TicketNotFound,
        TicketClosed, ExtensionNotAllowed."""
        async with self._sessionmaker() as session, session.begin():
            book = self._book(session)
            ticket = await book.get(canonical_reference(reference), for_update=True)
            return await book.extend_deadline(ticket, months=months, reason=reason, by=by)

    async def set_status(
        self, reference: str, status: TicketStatus, by: str, note: str | None = None
    ) -> TicketView:
        """Move a ticket to ``status`` (closing stops its SLA reminders). Raises TicketNotFound."""
        async with self._sessionmaker() as session, session.begin():
            book = self._book(session)
            ticket = await book.get(canonical_reference(reference), for_update=True)
            await book.set_status(ticket, status=status, by=by, note=note)
            return view_of(ticket)

    async def assign(self, reference: str, assignee: str | None, by: str) -> TicketView:
        """Give a ticket to ``assignee`` (None to unassign). Raises TicketNotFound."""
        async with self._sessionmaker() as session, session.begin():
            book = self._book(session)
            ticket = await book.get(canonical_reference(reference), for_update=True)
            await book.assign(ticket, assignee=assignee, by=by)
            return view_of(ticket)

    async def update_thread_meta(self, reference: str, meta: Mapping[str, str]) -> TicketView:
        """Merge channel thread details (an email Message-ID, a Telegram chat id) into the ticket."""
        async with self._sessionmaker() as session, session.begin():
            ticket = await self._book(session).get(canonical_reference(reference), for_update=True)
            ticket.thread_meta = {**(ticket.thread_meta or {}), **meta}
            return view_of(ticket)

    async def get(self, reference: str) -> TicketView | None:
        """The ticket, or None."""
        async with self._sessionmaker() as session:
            ticket = await self._book(session).tickets.by_reference(reference=canonical_reference(reference))
            return view_of(ticket) if ticket else None

    async def detail(self, reference: str, *, transcript_limit: int = 500) -> TicketDetail | None:
        """The ticket with its audit trail and its conversation's transcript, or None."""
        async with self._sessionmaker() as session:
            book = self._book(session)
            ticket = await book.tickets.by_reference(reference=canonical_reference(reference))
            if ticket is None:
                return None
            events = await book.tickets.events(ticket_id=ticket.id)
            messages = []
            if ticket.conversation_id:
                messages = await ConversationRepository(session).transcript(
                    conversation_id=ticket.conversation_id, limit=transcript_limit
                )
            return TicketDetail(
                view_of(ticket),
                tuple(audit_entry(e) for e in events),
                tuple(transcript_line(m) for m in messages),
            )

    async def list_tickets(
        self,
        *,
        statuses: Collection[TicketStatus] | None = None,
        kinds: Collection[RequestKind] = (),
        limit: int = 200,
    ) -> list[TicketView]:
        """Tickets in ``statuses`` (default: every open status) and ``kinds``, the least time left first."""
        async with self._sessionmaker() as session:
            rows = await self._book(session).tickets.listing(
                statuses=statuses or OPEN_STATUSES, kinds=kinds, limit=limit
            )
            return [view_of(ticket) for ticket in rows]
