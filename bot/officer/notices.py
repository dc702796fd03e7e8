"""What the person is told when the officer changes their ticket's status: one template per status, in the
law's words where the law has some (a rejection names the right to complain to a supervisory authority and
to seek a judicial remedy, GDPR Art. 12(4)). The messages go through the delivery outbox like a reply."""

from __future__ import annotations

from bot.domain.tickets import TicketStatus
from bot.store.models import Ticket
from responses import Responses

NOTICE_TEMPLATES = {
    TicketStatus.IN_PROGRESS: "officer/ticket_in_progress.txt.j2",
    TicketStatus.WAITING_ON_REQUESTER: "officer/ticket_waiting_on_requester.txt.j2",
    TicketStatus.RESOLVED: "officer/ticket_resolved.txt.j2",
    TicketStatus.REJECTED: "officer/ticket_rejected.txt.j2",
}


def status_notice(
    responses: Responses, ticket: Ticket, *, previous: TicketStatus, reason: str | None
) -> str | None:
    """The notice for the ticket's new status, or None when the status did not change or has none."""
    template = NOTICE_TEMPLATES.get(ticket.status)
    if template is None or ticket.status is previous:
        return None
    return responses.render(
        template,
        reference=ticket.reference,
        kind=ticket.kind,
        reason=reason,
        due=ticket.extended_until or ticket.due_at,
    )
