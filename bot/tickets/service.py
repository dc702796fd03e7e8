"""The ticket service: every rule about tickets (opening with de-duplication, verification, first response,
extensions, status, assignment, the end of a live handoff) over the one repository, ``TicketRepository``.
Every change appends to the audit trail.

Build one at start-up and pass it down. The officer workspace (dashboard, API, Telegram chat) and the command
line call it directly: each of those calls is one transaction, which the service owns, and returns views; a
change the person must hear about queues the message in the same transaction (``bot/tickets/notices.py``) and
hands it to ``outbox`` at once. The actions reach it through the ``RequestDesk`` protocol
(``bot/tickets/desk.py``): those calls run in the turn's session, which the turn store commits.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.channels import ChannelName
from bot.domain.clock import Clock, ensure_utc
from bot.domain.errors import (
    EmptyReply,
    HandoffNotActive,
    RejectionNeedsReason,
    TicketNotFound,
)
from bot.domain.text import storable
from bot.domain.tickets import (
    IdentityMethod,
    IdentityStatus,
    OfficerPresence,
    Priority,
    Requester,
    RequestKind,
    TicketStatus,
    TicketSummary,
)
from bot.identity.codes import normalise_address
from bot.sla.deadlines import SlaTerms
from bot.sla.sweeper import SWEEPER
from bot.store.accounts import AccountRepository
from bot.store.models import Ticket, TicketEventKind
from bot.store.officer_models import PendingDelivery
from bot.store.outbox import OutboxRepository
from bot.store.ticket_views import (
    DeadlineExtension,
    TicketDetail,
    TicketView,
    view_of,
)
from bot.store.tickets import OPEN_STATUSES, OpenTicketExists, ReferenceTaken, TicketRepository
from bot.tickets.handoff import (
    HANDOFF_ENDED_TEMPLATE,
    expect_follow_up,
    hand_back,
    handed_over,
    requester_language,
)
from bot.tickets.notices import (
    EXTENDED_TEMPLATE,
    REPLY_TEMPLATE,
    DeliveryReport,
    Outbox,
    queue_notice,
    status_notice,
)
from bot.tickets.opt_out import ASSISTANT, carry_out_marketing_opt_out
from bot.tickets.queue import (
    EVERY_OPEN_TICKET,
    QueueFilter,
    QueueItem,
    ReplySent,
    TicketPage,
    queue_csv,
    sla_item,
)
from bot.tickets.references import canonical_reference, parse_reference
from bot.tickets.rules import (
    REQUESTER,
    SYSTEM,
    assign,
    change_status,
    extend,
    new_ticket,
    record_reply,
    verify,
)
from responses import Responses

log = logging.getLogger(__name__)

_REFERENCE_TRIES = 5
PRESENCE_WINDOW = timedelta(minutes=15)
NON_OFFICER_ACTORS = (REQUESTER, SYSTEM, ASSISTANT, SWEEPER)


class TicketService:
    """The one service over tickets; see the module's docstring for who calls what."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        clock: Clock,
        terms: SlaTerms,
        responses: Responses,
        outbox: Outbox | None = None,
        self_storing_channels: frozenset[ChannelName] = frozenset(),
    ) -> None:
        """Deadlines use ``clock`` and ``terms``; messages for people are rendered with ``responses`` and
        handed to ``outbox`` (None: they wait for the running bot's retry loop). ``self_storing_channels``
        keep delivered messages in the conversation themselves (the web chat's history does); for the others
        the message is stored here, with the ticket change."""
        self._sessionmaker = sessionmaker
        self._clock = clock
        self._terms = terms
        self._responses = responses
        self._outbox = outbox
        self._self_storing = self_storing_channels

    def now(self) -> datetime:
        """The service's clock."""
        return self._clock.now()

    # The requester's side, in the turn's session (through bot/tickets/desk.py).

    async def open_request(
        self,
        session: AsyncSession,
        requester: Requester,
        kind: RequestKind,
        *,
        address: str | None,
        identity: IdentityStatus,
        method: IdentityMethod,
        priority: Priority = Priority.NORMAL,
    ) -> TicketSummary:
        """Open a ticket. The same verified address (or, unverified, the same conversation) with an open
        ticket of the same kind gets that ticket back (``already_open=True``) instead of a duplicate. A
        verified marketing opt-out of a known account is carried out at once and comes back resolved."""
        tickets = TicketRepository(session)
        address = normalise_address(address) if address else None
        verified = identity is IdentityStatus.VERIFIED and address is not None
        existing = await tickets.find_open(
            kind=kind,
            address=address if verified else None,
            conversation_id=None if verified else requester.conversation_id,
        )
        now = self._clock.now()
        if existing is None:
            try:
                return await self._insert_ticket(
                    session, requester, kind, address, identity, method, priority, now
                )
            except OpenTicketExists:  # a racing identical request committed first: that is the ticket
                existing = await tickets.find_open(
                    kind=kind,
                    address=address if verified else None,
                    conversation_id=None if verified else requester.conversation_id,
                )
                if existing is None:
                    raise
        tickets.append_event(
            ticket=existing,
            at=now,
            actor=REQUESTER,
            event=TicketEventKind.DUPLICATE_REQUEST,
            detail={"channel": requester.channel.value},
        )
        await carry_out_marketing_opt_out(session, existing, now=now, terms=self._terms)
        return view_of(existing).summary(already_open=True)

    async def _insert_ticket(
        self,
        session: AsyncSession,
        requester: Requester,
        kind: RequestKind,
        address: str | None,
        identity: IdentityStatus,
        method: IdentityMethod,
        priority: Priority,
        now: datetime,
    ) -> TicketSummary:
        """A new ticket with its OPENED event. Raises OpenTicketExists when an identical one raced in."""
        tickets = TicketRepository(session)
        verified = identity is IdentityStatus.VERIFIED and address is not None
        account = await AccountRepository(session).by_email(email=address) if verified and address else None
        for _ in range(_REFERENCE_TRIES):
            ticket = new_ticket(
                requester,
                kind,
                address=address,
                identity=identity,
                method=method,
                priority=priority,
                account_id=account.id if account else None,
                now=now,
                terms=self._terms,
            )
            try:
                await tickets.insert(ticket)
                break
            except ReferenceTaken:
                log.warning("ticket reference collision; drawing another")
        else:
            raise RuntimeError("could not draw a free ticket reference")
        tickets.append_event(
            ticket=ticket,
            at=now,
            actor=REQUESTER,
            event=TicketEventKind.OPENED,
            detail={
                "kind": kind.value,
                "priority": priority.value,
                "channel": requester.channel.value,
                "identity": identity.value,
                "method": method.value,
                "account_known": account is not None,
            },
        )
        log.info("ticket %s opened (%s, %s)", ticket.reference, kind.value, priority.value)
        await carry_out_marketing_opt_out(session, ticket, now=now, terms=self._terms)
        return view_of(ticket).summary()

    async def attach_verification(
        self,
        session: AsyncSession,
        requester: Requester,
        reference: str,
        *,
        address: str,
        method: IdentityMethod,
    ) -> TicketSummary | None:
        """Record that the requester of ``reference`` proved ``address`` (None if not theirs); a ticket
        awaiting verification becomes new."""
        ticket = await self._owned(session, requester, reference)
        if ticket is None:
            return None
        address = normalise_address(address)
        now = self._clock.now()
        account = await AccountRepository(session).by_email(email=address)
        tickets = TicketRepository(session)
        other = await tickets.find_open(kind=ticket.kind, address=address)
        verify(
            tickets,
            ticket,
            address=address,
            method=method,
            account_id=account.id if account else None,
            now=now,
            claim_address=other is None or other.id == ticket.id,  # else it keeps its conversation key
        )
        return view_of(ticket).summary()

    async def ticket_status(
        self, session: AsyncSession, requester: Requester, reference: str
    ) -> TicketSummary | None:
        """The ticket if ``requester`` owns it; an unknown and a foreign ticket look the same (None)."""
        ticket = await self._owned(session, requester, reference)
        return view_of(ticket).summary() if ticket is not None else None

    async def tickets_of(self, session: AsyncSession, requester: Requester) -> list[TicketSummary]:
        """The requester's tickets, newest first."""
        tickets = await TicketRepository(session).owned_by(
            conversation_id=requester.conversation_id,
            channel=requester.channel,
            sender_id=requester.sender_id,
            addresses=await TicketRepository(session).proven_addresses(
                conversation_id=requester.conversation_id
            ),
        )
        return [view_of(ticket).summary() for ticket in tickets]

    async def relay_to_officer(
        self, session: AsyncSession, requester: Requester, reference: str, text: str
    ) -> None:
        """Keep the person's message on the ticket's audit trail for the officer. Raises TicketNotFound."""
        ticket = await self._owned(session, requester, reference)
        if ticket is None:
            raise TicketNotFound(reference)
        TicketRepository(session).append_event(
            ticket=ticket,
            at=self._clock.now(),
            actor=REQUESTER,
            event=TicketEventKind.REQUESTER_MESSAGE,
            detail={"text": text},
        )
        log.info("requester message relayed on ticket %s", ticket.reference)

    async def verified_address_of(self, session: AsyncSession, reference: str) -> str | None:
        """The verified address of ticket ``reference`` (of any conversation or channel), or None."""
        canonical = parse_reference(reference)
        ticket = await TicketRepository(session).by_reference(reference=canonical) if canonical else None
        if ticket is None or ticket.identity_status is not IdentityStatus.VERIFIED:
            return None
        return ticket.requester_address or None

    async def officer_presence(self, session: AsyncSession) -> OfficerPresence:
        """Online when an officer (not the assistant or a background job) acted on any ticket within the
        last ``PRESENCE_WINDOW``."""
        since = self._clock.now() - PRESENCE_WINDOW
        latest = await TicketRepository(session).latest_officer_action(since=since, not_by=NON_OFFICER_ACTORS)
        return OfficerPresence(latest is not None, self._terms.first_response_hours)

    async def _owned(self, session: AsyncSession, requester: Requester, reference: str) -> Ticket | None:
        canonical = parse_reference(reference)
        if canonical is None:
            return None
        found = await TicketRepository(session).owned_by(
            conversation_id=requester.conversation_id,
            channel=requester.channel,
            sender_id=requester.sender_id,
            addresses=await TicketRepository(session).proven_addresses(
                conversation_id=requester.conversation_id
            ),
            reference=canonical,
        )
        return found[0] if found else None

    # The officer's side: one transaction per call.

    async def queue(self, filters: QueueFilter = EVERY_OPEN_TICKET) -> list[QueueItem]:
        """Tickets matching ``filters``: urgent first, then by the least time left."""
        now = self._clock.now()
        views = await self.list_tickets(
            statuses=filters.statuses, kinds=filters.kinds, channels=filters.channels, limit=filters.limit
        )
        return [sla_item(view, now) for view in views]

    async def export_csv(self, filters: QueueFilter) -> str:
        """The tickets matching ``filters`` as CSV, for record keeping (cells that a spreadsheet would run
        as formulas are quoted with a leading apostrophe)."""
        return queue_csv(await self.queue(filters))

    async def list_tickets(
        self,
        *,
        statuses: Collection[TicketStatus] | None = None,
        kinds: Collection[RequestKind] = (),
        channels: Collection[ChannelName] = (),
        limit: int = 200,
    ) -> list[TicketView]:
        """Tickets in ``statuses`` (default: every open status), ``kinds`` and ``channels``: urgent first,
        then by the least time left."""
        async with self._sessionmaker() as session:
            return await TicketRepository(session).listing(
                statuses=statuses or OPEN_STATUSES, kinds=kinds, channels=channels, limit=limit
            )

    async def get(self, reference: str) -> TicketView | None:
        """The ticket, or None."""
        async with self._sessionmaker() as session:
            return await TicketRepository(session).view(reference=canonical_reference(reference))

    async def detail(self, reference: str, *, transcript_limit: int = 500) -> TicketDetail | None:
        """The ticket with its audit trail and its conversation's transcript, or None."""
        async with self._sessionmaker() as session:
            repository = TicketRepository(session)
            return await repository.detail(
                reference=canonical_reference(reference), transcript_limit=transcript_limit
            )

    async def page(self, reference: str) -> TicketPage | None:
        """The ticket page of ``reference``, or None."""
        async with self._sessionmaker() as session:
            detail = await TicketRepository(session).detail(reference=canonical_reference(reference))
            if detail is None:
                return None
            ticket = await self._locked(session, detail.ticket.reference, for_update=False)
            active = await handed_over(session, ticket) is not None
            deliveries = tuple(await OutboxRepository(session).deliveries(reference=ticket.reference))
        undelivered = sum(record.waiting for record in deliveries)
        item = sla_item(detail.ticket, self._clock.now())
        return TicketPage(item, detail, active, undelivered, deliveries)

    async def reply(self, reference: str, text: str, *, officer: str) -> ReplySent:
        """Send ``text`` to the requester on the ticket's channel; the first reply stops the first-response
        clock. Raises EmptyReply, TicketNotFound."""
        text = storable(text).strip()
        if not text:
            raise EmptyReply()
        async with self._sessionmaker() as session, session.begin():
            ticket = await self._locked(session, reference)
            now = self._clock.now()
            first = record_reply(
                TicketRepository(session), ticket, officer=officer, at=now, terms=self._terms
            )
            await expect_follow_up(session, ticket, now=now)
            lang = await requester_language(session, ticket)
            body = self._responses.render_in(lang, REPLY_TEMPLATE, text=text, reference=ticket.reference)
            row = await self._notify(session, ticket, body)
            view = view_of(ticket)
        report = await self._deliver([row.id])
        return ReplySent(view, first, report.delivered == 1, report.kept == 1)

    async def record_officer_reply(
        self, reference: str, officer: str, at: datetime | None = None
    ) -> TicketView:
        """Record that an officer answered the requester elsewhere (no message is sent); the first answer
        sets ``first_response_at`` (once) and stops the first-response reminders. Raises TicketNotFound."""
        async with self._sessionmaker() as session, session.begin():
            ticket = await self._locked(session, reference)
            at = ensure_utc(at) if at else self._clock.now()
            record_reply(TicketRepository(session), ticket, officer=officer, at=at, terms=self._terms)
            return view_of(ticket)

    async def set_status(
        self, reference: str, status: TicketStatus, *, officer: str, reason: str | None = None
    ) -> TicketView:
        """Move the ticket to ``status``; a rejection needs ``reason``. The requester is told (in progress,
        waiting on them, resolved, rejected: ``bot/tickets/notices.py``); closing hands a live handoff back to
        the assistant. Raises RejectionNeedsReason, TicketNotFound."""
        reason = (reason or "").strip() or None
        if status is TicketStatus.REJECTED and reason is None:
            raise RejectionNeedsReason(reference)
        ids: list[int] = []
        async with self._sessionmaker() as session, session.begin():
            ticket = await self._locked(session, reference)
            previous = ticket.status
            self._change_status(session, ticket, status=status, by=officer, note=reason)
            if status.is_closed and not previous.is_closed:
                conversation = await handed_over(session, ticket, for_update=True)
                if conversation is not None:
                    hand_back(conversation, now=self._clock.now())
            ids.extend(await self._tell_status(session, ticket, previous=previous, reason=reason))
            view = view_of(ticket)
        await self._deliver(ids)
        return view

    async def record_status(
        self, reference: str, status: TicketStatus, by: str, note: str | None = None
    ) -> TicketView:
        """Record a status change made elsewhere (no message is sent; closing stops the SLA reminders).
        Raises TicketNotFound."""
        async with self._sessionmaker() as session, session.begin():
            ticket = await self._locked(session, reference)
            self._change_status(session, ticket, status=status, by=by, note=note)
            return view_of(ticket)

    async def extend(self, reference: str, months: int, reason: str, *, officer: str) -> TicketView:
        """Extend the resolution deadline and tell the requester why and until when. Raises TicketNotFound,
        TicketClosed, ExtensionNotAllowed, ExtensionTooLate (past the first month after intake)."""
        async with self._sessionmaker() as session, session.begin():
            ticket = await self._locked(session, reference)
            extension = self._extend(session, ticket, months=months, reason=reason, by=officer)
            lang = await requester_language(session, ticket)
            text = self._responses.render_in(
                lang, EXTENDED_TEMPLATE, extension=extension, reference=ticket.reference
            )
            row = await self._notify(session, ticket, text)
            view = view_of(ticket)
        await self._deliver([row.id])
        return view

    async def extend_deadline(self, reference: str, months: int, reason: str, by: str) -> DeadlineExtension:
        """Extend the resolution deadline by 1 or 2 months (2 in total at most), with the reason on the audit
        trail, without telling the requester; the returned value carries what they must be told. Raises
        TicketNotFound, TicketClosed, ExtensionNotAllowed, ExtensionTooLate."""
        async with self._sessionmaker() as session, session.begin():
            ticket = await self._locked(session, reference)
            return self._extend(session, ticket, months=months, reason=reason, by=by)

    async def assign(self, reference: str, assignee: str | None, *, officer: str) -> TicketView:
        """Give the ticket to ``assignee`` (None or blank: nobody). Raises TicketNotFound."""
        async with self._sessionmaker() as session, session.begin():
            ticket = await self._locked(session, reference)
            assign(
                TicketRepository(session),
                ticket,
                assignee=(assignee or "").strip() or None,
                by=officer,
                now=self._clock.now(),
            )
            return view_of(ticket)

    async def take(self, reference: str, *, officer: str, assignee: str) -> TicketView:
        """``assignee`` takes the ticket: assigned to them, and a new ticket becomes in progress (the person
        is told)."""
        ids: list[int] = []
        async with self._sessionmaker() as session, session.begin():
            ticket = await self._locked(session, reference)
            assign(TicketRepository(session), ticket, assignee=assignee, by=officer, now=self._clock.now())
            if ticket.status is TicketStatus.NEW:
                self._change_status(session, ticket, status=TicketStatus.IN_PROGRESS, by=officer)
                ids.extend(await self._tell_status(session, ticket, previous=TicketStatus.NEW, reason=None))
            view = view_of(ticket)
        await self._deliver(ids)
        return view

    async def end_handoff(self, reference: str, *, officer: str) -> TicketView:
        """Hand the conversation back to the assistant and tell the person; the ticket's status is left
        as it is (the officer closes it separately). Raises HandoffNotActive, TicketNotFound."""
        async with self._sessionmaker() as session, session.begin():
            ticket = await self._locked(session, reference)
            conversation = await handed_over(session, ticket, for_update=True)
            if conversation is None:
                raise HandoffNotActive(ticket.reference)
            hand_back(conversation, now=self._clock.now())
            lang = await requester_language(session, ticket)
            text = self._responses.render_in(lang, HANDOFF_ENDED_TEMPLATE, reference=ticket.reference)
            row = await self._notify(session, ticket, text)
            view = view_of(ticket)
        await self._deliver([row.id])
        return view

    async def update_thread_meta(self, reference: str, meta: Mapping[str, str]) -> TicketView:
        """Merge channel thread details (an email Message-ID, a Telegram chat id) into the ticket."""
        async with self._sessionmaker() as session, session.begin():
            ticket = await self._locked(session, reference)
            ticket.thread_meta = {**(ticket.thread_meta or {}), **meta}
            return view_of(ticket)

    # The rules over a ticket row locked in the caller's transaction.

    async def _locked(self, session: AsyncSession, reference: str, *, for_update: bool = True) -> Ticket:
        """The ticket (locked for update on PostgreSQL unless told), or TicketNotFound."""
        canonical = canonical_reference(reference)
        ticket = await TicketRepository(session).by_reference(reference=canonical, for_update=for_update)
        if ticket is None:
            raise TicketNotFound(canonical)
        return ticket

    def _change_status(
        self, session: AsyncSession, ticket: Ticket, *, status: TicketStatus, by: str, note: str | None = None
    ) -> None:
        tickets = TicketRepository(session)
        change_status(
            tickets, ticket, status=status, by=by, note=note, now=self._clock.now(), terms=self._terms
        )

    def _extend(
        self, session: AsyncSession, ticket: Ticket, *, months: int, reason: str, by: str
    ) -> DeadlineExtension:
        tickets = TicketRepository(session)
        now = self._clock.now()
        return extend(tickets, ticket, months=months, reason=reason, by=by, now=now, terms=self._terms)

    async def _notify(self, session: AsyncSession, ticket: Ticket, text: str) -> PendingDelivery:
        keep = ticket.channel not in self._self_storing
        return await queue_notice(session, ticket, text, now=self._clock.now(), keep_in_conversation=keep)

    async def _tell_status(
        self, session: AsyncSession, ticket: Ticket, *, previous: TicketStatus, reason: str | None
    ) -> list[int]:
        """Queue the notice of the ticket's new status, if it has one; the queued row ids."""
        lang = await requester_language(session, ticket)
        notice = status_notice(self._responses, lang, ticket, previous=previous, reason=reason)
        if notice is None:
            return []
        return [(await self._notify(session, ticket, notice)).id]

    async def _deliver(self, ids: list[int]) -> DeliveryReport:
        """Hand the just-committed rows to their channels (nothing without an outbox)."""
        if self._outbox is None or not ids:
            return _NOTHING_DELIVERED
        return await self._outbox.deliver_now(ids)


@dataclass(frozen=True)
class _NoDelivery:
    """The report when nothing was handed to a channel."""

    delivered: int = 0
    kept: int = 0


_NOTHING_DELIVERED = _NoDelivery()
