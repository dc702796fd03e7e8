"""The officer's operations over the store: the queue, a ticket's page, replies, status, extensions,
assignment, the end of a live handoff, and the CSV export.

Every write is one transaction holding the ticket change, its audit entry and the message for the person
(queued in the delivery outbox); the message is then handed to its channel at once, and retried if refused.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.channels import ChannelName
from bot.domain.clock import Clock
from bot.domain.errors import EmptyReply, HandoffNotActive, RejectionNeedsReason
from bot.domain.tickets import RequestKind, TicketStatus
from bot.messages import AUTHOR_META, OFFICER_AUTHOR, OutboundMessage
from bot.officer.handoff import HANDOFF_ENDED_TEMPLATE, hand_back, handed_over, requester_language
from bot.officer.outbox import DeliveryOutbox, enqueue
from bot.officer.queue import (
    EVERY_OPEN_TICKET,
    QueueFilter,
    QueueItem,
    ReplySent,
    TicketPage,
    queue_csv,
    sla_item,
)
from bot.sla.deadlines import SlaTerms
from bot.store.conversations import ConversationRepository
from bot.store.models import Conversation, MessageDirection, Ticket
from bot.store.officer_models import PendingDelivery
from bot.store.tickets import OPEN_STATUSES
from bot.tickets.book import TicketBook
from bot.tickets.references import canonical_reference as canonical
from bot.tickets.service import TicketService
from bot.tickets.views import TicketView, view_of
from responses import Responses

REPLY_TEMPLATE = "officer/reply.txt.j2"
EXTENDED_TEMPLATE = "officer/deadline_extended.txt.j2"
CLOSED_TEMPLATES = {
    TicketStatus.RESOLVED: "officer/ticket_resolved.txt.j2",
    TicketStatus.REJECTED: "officer/ticket_rejected.txt.j2",
}
OFFICER_META = AUTHOR_META


class OfficerDesk:
    """The officer workspace's service; build one at start-up and pass it to the dashboard, API and chat."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        clock: Clock,
        terms: SlaTerms,
        responses: Responses,
        outbox: DeliveryOutbox,
        self_storing_channels: frozenset[ChannelName] = frozenset(),
    ) -> None:
        """``self_storing_channels`` keep delivered messages in the conversation themselves (the web chat's
        history does); for the others the reply is stored here, with the ticket change."""
        self._sessionmaker = sessionmaker
        self._clock = clock
        self._terms = terms
        self._responses = responses
        self._outbox = outbox
        self._self_storing = self_storing_channels
        self._tickets = TicketService(sessionmaker, clock=clock, terms=terms)

    def _book(self, session: AsyncSession) -> TicketBook:
        return TicketBook(session, clock=self._clock, terms=self._terms)

    def now(self) -> datetime:
        """The desk's clock."""
        return self._clock.now()

    async def queue(self, filters: QueueFilter = EVERY_OPEN_TICKET) -> list[QueueItem]:
        """Tickets matching ``filters``, the least time left first."""
        now = self._clock.now()
        async with self._sessionmaker() as session:
            rows = await self._book(session).tickets.listing(
                statuses=filters.statuses or OPEN_STATUSES,
                kinds=filters.kinds,
                channels=filters.channels,
                limit=filters.limit,
            )
            return [sla_item(view_of(ticket), now) for ticket in rows]

    async def page(self, reference: str) -> TicketPage | None:
        """The ticket page of ``reference``, or None."""
        detail = await self._tickets.detail(canonical(reference))
        if detail is None:
            return None
        async with self._sessionmaker() as session:
            ticket = await self._book(session).get(detail.ticket.reference)
            active = await handed_over(session, ticket) is not None
            waiting = await session.scalars(
                select(PendingDelivery.id).where(
                    PendingDelivery.ticket_reference == ticket.reference,
                    PendingDelivery.delivered_at.is_(None),
                )
            )
            undelivered = len(waiting.all())
        return TicketPage(sla_item(detail.ticket, self._clock.now()), detail, active, undelivered)

    async def reply(self, reference: str, text: str, *, officer: str) -> ReplySent:
        """Send ``text`` to the requester on the ticket's channel; the first reply stops the first-response
        clock. Raises EmptyReply, TicketNotFound."""
        text = text.strip()
        if not text:
            raise EmptyReply()
        async with self._sessionmaker() as session, session.begin():
            book = self._book(session)
            ticket = await book.get(canonical(reference), for_update=True)
            first = await book.record_officer_reply(ticket, officer=officer)
            lang = await requester_language(session, ticket)
            body = self._responses.render_in(lang, REPLY_TEMPLATE, text=text, reference=ticket.reference)
            row = await self._queue_message(session, ticket, body)
            view = view_of(ticket)
        report = await self._outbox.deliver_now([row.id])
        return ReplySent(view, first, report.delivered == 1)

    async def set_status(
        self, reference: str, status: TicketStatus, *, officer: str, reason: str | None = None
    ) -> TicketView:
        """Move the ticket to ``status``; a rejection needs ``reason``. Closing tells the requester and hands
        a live handoff back to the assistant. Raises RejectionNeedsReason, TicketNotFound."""
        reason = (reason or "").strip() or None
        if status is TicketStatus.REJECTED and reason is None:
            raise RejectionNeedsReason(reference)
        rows: list[PendingDelivery] = []
        async with self._sessionmaker() as session, session.begin():
            book = self._book(session)
            ticket = await book.get(canonical(reference), for_update=True)
            was_closed = ticket.status.is_closed
            await book.set_status(ticket, status=status, by=officer, note=reason)
            if status.is_closed and not was_closed:
                conversation = await handed_over(session, ticket, for_update=True)
                if conversation is not None:
                    hand_back(conversation, now=self._clock.now())
                text = self._responses.render_in(
                    await requester_language(session, ticket),
                    CLOSED_TEMPLATES[status],
                    reference=ticket.reference,
                    kind=ticket.kind,
                    reason=reason,
                )
                rows.append(await self._queue_message(session, ticket, text))
            view = view_of(ticket)
        await self._outbox.deliver_now([row.id for row in rows])
        return view

    async def extend(self, reference: str, months: int, reason: str, *, officer: str) -> TicketView:
        """Extend the resolution deadline and tell the requester why and until when. Raises TicketNotFound,
        TicketClosed, ExtensionNotAllowed."""
        async with self._sessionmaker() as session, session.begin():
            book = self._book(session)
            ticket = await book.get(canonical(reference), for_update=True)
            extension = await book.extend_deadline(ticket, months=months, reason=reason, by=officer)
            lang = await requester_language(session, ticket)
            text = self._responses.render_in(
                lang, EXTENDED_TEMPLATE, extension=extension, reference=ticket.reference
            )
            row = await self._queue_message(session, ticket, text)
            view = view_of(ticket)
        await self._outbox.deliver_now([row.id])
        return view

    async def assign(self, reference: str, assignee: str | None, *, officer: str) -> TicketView:
        """Give the ticket to ``assignee`` (None: nobody). Raises TicketNotFound."""
        return await self._tickets.assign(canonical(reference), (assignee or "").strip() or None, officer)

    async def take(self, reference: str, *, officer: str, assignee: str) -> TicketView:
        """``assignee`` takes the ticket: assigned to them, and a new ticket becomes in progress."""
        async with self._sessionmaker() as session, session.begin():
            book = self._book(session)
            ticket = await book.get(canonical(reference), for_update=True)
            await book.assign(ticket, assignee=assignee, by=officer)
            if ticket.status is TicketStatus.NEW:
                await book.set_status(ticket, status=TicketStatus.IN_PROGRESS, by=officer)
            return view_of(ticket)

    async def end_handoff(self, reference: str, *, officer: str) -> TicketView:
        """Hand the conversation back to the assistant and tell the person; a handoff ticket is resolved.
        Raises HandoffNotActive, TicketNotFound."""
        async with self._sessionmaker() as session, session.begin():
            book = self._book(session)
            ticket = await book.get(canonical(reference), for_update=True)
            conversation = await handed_over(session, ticket, for_update=True)
            if conversation is None:
                raise HandoffNotActive(ticket.reference)
            hand_back(conversation, now=self._clock.now())
            if ticket.kind is RequestKind.HANDOFF and not ticket.status.is_closed:
                await book.set_status(ticket, status=TicketStatus.RESOLVED, by=officer, note="handoff ended")
            lang = await requester_language(session, ticket)
            text = self._responses.render_in(lang, HANDOFF_ENDED_TEMPLATE, reference=ticket.reference)
            row = await self._queue_message(session, ticket, text)
            view = view_of(ticket)
        await self._outbox.deliver_now([row.id])
        return view

    async def export_csv(self, filters: QueueFilter) -> str:
        """The tickets matching ``filters`` as CSV, for record keeping (cells that a spreadsheet would run
        as formulas are quoted with a leading apostrophe)."""
        return queue_csv(await self.queue(filters))

    async def _queue_message(self, session: AsyncSession, ticket: Ticket, text: str) -> PendingDelivery:
        """Queue ``text`` for the requester (threaded like the ticket) and keep it in the conversation."""
        now = self._clock.now()
        meta = await self._thread_meta(session, ticket)
        channel, recipient = ticket.channel, ticket.requester_sender_id
        if channel is ChannelName.CLI and ticket.requester_address:
            # A terminal conversation ends when the person quits: the answer goes by email, as promised.
            channel, recipient = ChannelName.EMAIL, ticket.requester_address
        message = OutboundMessage(
            channel=channel,
            recipient_id=recipient,
            text=text,
            ticket_reference=ticket.reference,
            meta={**meta, AUTHOR_META: OFFICER_AUTHOR},
        )
        row = enqueue(session, message, now=now)
        if ticket.conversation_id and ticket.channel not in self._self_storing:
            ConversationRepository(session).add_message(
                conversation_id=ticket.conversation_id,
                direction=MessageDirection.OUTBOUND,
                channel=ticket.channel,
                text=text,
                at=now,
                ticket_reference=ticket.reference,
                meta={OFFICER_META: OFFICER_AUTHOR},
            )
        await session.flush()
        return row

    async def _thread_meta(self, session: AsyncSession, ticket: Ticket) -> dict[str, str]:
        """The channel's thread details: the ticket's own, else its conversation's latest."""
        stored = ticket.thread_meta
        if not stored and ticket.conversation_id:
            conversation = await session.get(Conversation, ticket.conversation_id)
            stored = conversation.thread_meta if conversation else None
        return {key: str(value) for key, value in (stored or {}).items() if isinstance(value, str | int)}
