"""How a ticket row changes, each change with its audit entry: a new ticket, verification, an officer's reply,
an extension, a status and an assignment. Called by the ticket service (``bot/tickets/service.py``), which
finds and locks the row and owns the transaction; nothing here reads the clock or commits."""

from __future__ import annotations

from datetime import datetime

from bot.domain.errors import ExtensionNotAllowed, ExtensionTooLate, TicketClosed
from bot.domain.tickets import IdentityMethod, IdentityStatus, Priority, Requester, RequestKind, TicketStatus
from bot.sla.clocks import next_sla_check
from bot.sla.deadlines import MAX_EXTENSION_MONTHS, SlaTerms, add_months
from bot.store.models import Ticket, TicketEventKind, requester_key
from bot.store.ticket_views import DeadlineExtension, view_of
from bot.store.tickets import TicketRepository
from bot.tickets.references import new_reference

REQUESTER = "requester"
SYSTEM = "system"
# GDPR Art. 12(3): the person is told of an extension, with its reasons, within one month of the request.
EXTENSION_WINDOW_MONTHS = 1


def new_ticket(
    requester: Requester,
    kind: RequestKind,
    *,
    address: str | None,
    identity: IdentityStatus,
    method: IdentityMethod,
    priority: Priority,
    account_id: int | None,
    now: datetime,
    terms: SlaTerms,
) -> Ticket:
    """A fresh ticket row (with a new reference) for ``requester``, its deadlines counted from ``now``
    (an urgent one's first response sooner). ``address`` counts for the one-open-ticket rule only when
    verified."""
    first_due = terms.first_response_due(now, priority)
    reference = new_reference()
    verified = identity is IdentityStatus.VERIFIED and address is not None
    ticket = Ticket(
        reference=reference,
        requester_key=requester_key(
            address=address if verified else None,
            conversation_id=requester.conversation_id,
            reference=reference,
        ),
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
        account_id=account_id,
        language=requester.language,
        created_at=now,
        updated_at=now,
        first_response_due=first_due,
        due_at=terms.resolution_due(now),
        extension_months=0,
    )
    ticket.sla_check_at = next_sla_check(ticket, terms, now)
    return ticket


def verify(
    tickets: TicketRepository,
    ticket: Ticket,
    *,
    address: str,
    method: IdentityMethod,
    account_id: int | None,
    now: datetime,
    claim_address: bool = True,
) -> None:
    """The requester proved ``address``; a ticket awaiting verification becomes new. With ``claim_address``
    the ticket becomes the address's open ticket of its kind (the caller checked there is no other)."""
    ticket.requester_address = address
    if claim_address:
        ticket.requester_key = requester_key(
            address=address, conversation_id=ticket.conversation_id, reference=ticket.reference
        )
    ticket.identity_status = IdentityStatus.VERIFIED
    ticket.identity_method = method
    ticket.account_id = account_id
    if ticket.status is TicketStatus.AWAITING_VERIFICATION:
        ticket.status = TicketStatus.NEW
    ticket.updated_at = now
    tickets.append_event(
        ticket=ticket,
        at=now,
        actor=REQUESTER,
        event=TicketEventKind.VERIFIED,
        detail={"method": method.value, "account_known": account_id is not None},
    )


def record_reply(
    tickets: TicketRepository, ticket: Ticket, *, officer: str, at: datetime, terms: SlaTerms
) -> bool:
    """An officer answered; the first such answer stops the first-response clock (the resolution clock
    goes on). True if it was first."""
    first = ticket.first_response_at is None
    tickets.append_event(
        ticket=ticket,
        at=at,
        actor=officer,
        event=TicketEventKind.FIRST_RESPONSE if first else TicketEventKind.OFFICER_REPLIED,
        detail={},
    )
    if first:
        ticket.first_response_at = at
        ticket.sla_check_at = next_sla_check(ticket, terms, at)
        if ticket.status is TicketStatus.NEW:
            ticket.status = TicketStatus.IN_PROGRESS
    ticket.updated_at = max(ticket.updated_at, at)
    return first


def extend(
    tickets: TicketRepository,
    ticket: Ticket,
    *,
    months: int,
    reason: str,
    by: str,
    now: datetime,
    terms: SlaTerms,
) -> DeadlineExtension:
    """Push the resolution deadline by ``months`` (at most two in total, decided within the first month
    after intake), recording the reason. Raises TicketClosed, ExtensionNotAllowed, ExtensionTooLate."""
    left = MAX_EXTENSION_MONTHS - ticket.extension_months
    if ticket.status.is_closed:
        raise TicketClosed(ticket.reference, ticket.status)
    if months not in (1, 2) or months > left:
        raise ExtensionNotAllowed(ticket.reference, left, f"{months} month(s) asked, {left} left")
    if not reason.strip():
        raise ExtensionNotAllowed(ticket.reference, left, "an extension needs a reason")
    window_closes = add_months(ticket.created_at, EXTENSION_WINDOW_MONTHS)
    if now > window_closes:
        raise ExtensionTooLate(ticket.reference, left, window_closes)
    previous = ticket.extended_until or ticket.due_at
    ticket.extension_months += months
    ticket.extended_until = add_months(ticket.due_at, ticket.extension_months)
    ticket.extension_reason = reason.strip()
    ticket.updated_at = now
    ticket.sla_check_at = next_sla_check(ticket, terms, now)
    tickets.append_event(
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


def change_status(
    tickets: TicketRepository,
    ticket: Ticket,
    *,
    status: TicketStatus,
    by: str,
    now: datetime,
    terms: SlaTerms,
    note: str | None = None,
) -> None:
    """Move the ticket to ``status``; closing it stops the SLA clock."""
    previous = ticket.status
    ticket.status = status
    ticket.updated_at = now
    if status.is_closed:
        ticket.closed_at = now
        ticket.sla_check_at = None
    elif previous.is_closed:
        ticket.closed_at = None
        ticket.sla_check_at = next_sla_check(ticket, terms, now)
    detail: dict[str, str] = {"from": previous.value, "to": status.value}
    if note:
        detail["note"] = note
    tickets.append_event(ticket=ticket, at=now, actor=by, event=TicketEventKind.STATUS_CHANGED, detail=detail)


def assign(
    tickets: TicketRepository, ticket: Ticket, *, assignee: str | None, by: str, now: datetime
) -> None:
    """Give the ticket to ``assignee`` (None: unassign)."""
    ticket.assignee = assignee
    ticket.updated_at = now
    tickets.append_event(
        ticket=ticket, at=now, actor=by, event=TicketEventKind.ASSIGNED, detail={"assignee": assignee}
    )
