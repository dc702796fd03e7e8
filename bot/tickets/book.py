"""The ticket rules, over one session: opening (with de-duplication), verification, first response,
extensions, status and assignment. Every change appends to the audit trail. Never commits."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.clock import Clock, ensure_utc
from bot.domain.errors import ExtensionNotAllowed, TicketClosed, TicketNotFound
from bot.domain.tickets import IdentityMethod, IdentityStatus, Priority, Requester, RequestKind, TicketStatus
from bot.identity.codes import normalise_address
from bot.sla.deadlines import MAX_EXTENSION_MONTHS, SlaTerms, add_months, next_check_at
from bot.store.accounts import AccountRepository
from bot.store.models import Ticket, TicketEventKind
from bot.store.tickets import ReferenceTaken, TicketRepository
from bot.tickets.references import new_reference
from bot.tickets.views import DeadlineExtension, view_of

log = logging.getLogger(__name__)

REQUESTER = "requester"
SYSTEM = "system"
_REFERENCE_TRIES = 5


class TicketBook:
    """Ticket operations bound to one session; the caller owns the transaction."""

    def __init__(self, session: AsyncSession, *, clock: Clock, terms: SlaTerms) -> None:
        """Bind to ``session``; deadlines use ``clock`` and ``terms``."""
        self.session = session
        self.tickets = TicketRepository(session)
        self.accounts = AccountRepository(session)
        self.clock = clock
        self.terms = terms

    async def get(self, reference: str, *, for_update: bool = False) -> Ticket:
        """The ticket, or TicketNotFound."""
        ticket = await self.tickets.by_reference(reference=reference, for_update=for_update)
        if ticket is None:
            raise TicketNotFound(reference)
        return ticket

    async def open(
        self,
        requester: Requester,
        kind: RequestKind,
        *,
        address: str | None,
        identity: IdentityStatus,
        method: IdentityMethod,
        priority: Priority = Priority.NORMAL,
    ) -> tuple[Ticket, bool]:
        """Open a ticket; returns ``(ticket, already_open)``.

        The same verified address (or, unverified, the same conversation) with an open ticket of the same
        kind gets that ticket back instead of a duplicate.
        """
        address = normalise_address(address) if address else None
        verified = identity is IdentityStatus.VERIFIED and address is not None
        existing = await self.tickets.find_open(
            kind=kind,
            address=address if verified else None,
            conversation_id=None if verified else requester.conversation_id,
        )
        now = self.clock.now()
        if existing is not None:
            self.tickets.append_event(
                ticket=existing,
                at=now,
                actor=REQUESTER,
                event=TicketEventKind.DUPLICATE_REQUEST,
                detail={"channel": requester.channel.value},
            )
            return existing, True
        account = await self.accounts.by_email(email=address) if verified and address else None
        first_due = self.terms.first_response_due(now)
        for _ in range(_REFERENCE_TRIES):
            ticket = Ticket(
                reference=new_reference(),
                kind=kind,
                priority=priority,
                status=TicketStatus.AWAITING_VERIFICATION
                if identity is IdentityStatus.UNVERIFIED
                else TicketStatus.NEW,
                channel=requester.channel,
                requester_sender_id=requester.sender_id,
                requester_address=address,
                conversation_id=requester.conversation_id,
                identity_status=identity,
                identity_method=method,
                account_id=account.id if account else None,
                language=requester.language,
                created_at=now,
                updated_at=now,
                first_response_due=first_due,
                due_at=self.terms.resolution_due(now),
                extension_months=0,
                sla_check_at=next_check_at(first_due, self.terms.reminder_hours, now),
            )
            try:
                await self.tickets.insert(ticket)
                break
            except ReferenceTaken:
                log.warning("ticket reference collision; drawing another")
        else:
            raise RuntimeError("could not draw a free ticket reference")
        self.tickets.append_event(
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
        return ticket, False

    async def attach_verification(self, ticket: Ticket, *, address: str, method: IdentityMethod) -> Ticket:
        """Record that the requester proved ``address``; a ticket awaiting verification becomes new."""
        address = normalise_address(address)
        now = self.clock.now()
        account = await self.accounts.by_email(email=address)
        ticket.requester_address = address
        ticket.identity_status = IdentityStatus.VERIFIED
        ticket.identity_method = method
        ticket.account_id = account.id if account else None
        if ticket.status is TicketStatus.AWAITING_VERIFICATION:
            ticket.status = TicketStatus.NEW
        ticket.updated_at = now
        self.tickets.append_event(
            ticket=ticket,
            at=now,
            actor=REQUESTER,
            event=TicketEventKind.VERIFIED,
            detail={"method": method.value, "account_known": account is not None},
        )
        return ticket

    async def record_officer_reply(self, ticket: Ticket, *, officer: str, at: datetime | None = None) -> bool:
        """An officer answered; the first such answer stops the first-response clock. True if it was first."""
        at = ensure_utc(at) if at else self.clock.now()
        first = ticket.first_response_at is None
        self.tickets.append_event(
            ticket=ticket,
            at=at,
            actor=officer,
            event=TicketEventKind.FIRST_RESPONSE if first else TicketEventKind.OFFICER_REPLIED,
            detail={},
        )
        if first:
            ticket.first_response_at = at
            ticket.sla_check_at = None
            if ticket.status is TicketStatus.NEW:
                ticket.status = TicketStatus.IN_PROGRESS
        ticket.updated_at = max(ticket.updated_at, at)
        return first

    async def extend_deadline(
        self, ticket: Ticket, *, months: int, reason: str, by: str
    ) -> DeadlineExtension:
        """Push the resolution deadline by ``months`` (at most two in total), recording the reason."""
        left = MAX_EXTENSION_MONTHS - ticket.extension_months
        if ticket.status.is_closed:
            raise TicketClosed(ticket.reference, ticket.status)
        if months not in (1, 2) or months > left:
            raise ExtensionNotAllowed(ticket.reference, left, f"{months} month(s) asked, {left} left")
        if not reason.strip():
            raise ExtensionNotAllowed(ticket.reference, left, "an extension needs a reason")
        now = self.clock.now()
        previous = ticket.extended_until or ticket.due_at
        ticket.extension_months += months
        ticket.extended_until = add_months(ticket.due_at, ticket.extension_months)
        ticket.extension_reason = reason.strip()
        ticket.updated_at = now
        self.tickets.append_event(
            ticket=ticket,
            at=now,
            actor=by,
            event=TicketEventKind.DEADLINE_EXTENDED,
            detail={
                "months": months,
                "reason": ticket.extension_reason,
                "previous_due": previous.isoformat(),
                "extended_until": ticket.extended_until.isoformat(),
            },
        )
        return DeadlineExtension(
            view_of(ticket), previous, ticket.extended_until, months, ticket.extension_reason
        )

    async def set_status(
        self, ticket: Ticket, *, status: TicketStatus, by: str, note: str | None = None
    ) -> None:
        """Move the ticket to ``status``; closing it stops the SLA clock."""
        now = self.clock.now()
        previous = ticket.status
        ticket.status = status
        ticket.updated_at = now
        if status.is_closed:
            ticket.closed_at = now
            ticket.sla_check_at = None
        elif previous.is_closed:
            ticket.closed_at = None
            if ticket.first_response_at is None:
                ticket.sla_check_at = next_check_at(ticket.first_response_due, self.terms.reminder_hours, now)
        detail: dict[str, str] = {"from": previous.value, "to": status.value}
        if note:
            detail["note"] = note
        self.tickets.append_event(
            ticket=ticket, at=now, actor=by, event=TicketEventKind.STATUS_CHANGED, detail=detail
        )

    async def assign(self, ticket: Ticket, *, assignee: str | None, by: str) -> None:
        """Give the ticket to ``assignee`` (None: unassign)."""
        now = self.clock.now()
        ticket.assignee = assignee
        ticket.updated_at = now
        self.tickets.append_event(
            ticket=ticket, at=now, actor=by, event=TicketEventKind.ASSIGNED, detail={"assignee": assignee}
        )
