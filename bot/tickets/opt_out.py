"""A verified marketing opt-out is carried out by the assistant at once: the account in the directory is
flagged, the audit trail says so, and the ticket is resolved (the officer hears of it through the alert
feed, which reports the new ticket as already resolved). An address with no account stays an open ticket
for the officer."""

from __future__ import annotations

import logging

from bot.domain.tickets import IdentityStatus, RequestKind, TicketStatus
from bot.store.models import Ticket, TicketEventKind
from bot.tickets.book import TicketBook

log = logging.getLogger(__name__)

ASSISTANT = "assistant"


async def carry_out_marketing_opt_out(book: TicketBook, ticket: Ticket) -> bool:
    """Flag the verified requester's account as opted out and resolve the ticket; False when it is not a
    verified, open marketing opt-out of a known account (then the officer handles it)."""
    if (
        ticket.kind is not RequestKind.MARKETING_OPT_OUT
        or ticket.identity_status is not IdentityStatus.VERIFIED
        or ticket.status.is_closed
        or ticket.requester_address is None
    ):
        return False
    account = await book.accounts.by_email(email=ticket.requester_address)
    if account is None:
        return False
    now = book.clock.now()
    already = account.marketing_opt_out_at is not None
    if not already:
        account.marketing_opt_out_at = now
    book.tickets.append_event(
        ticket=ticket,
        at=now,
        actor=ASSISTANT,
        event=TicketEventKind.MARKETING_OPTED_OUT,
        detail={"account_id": account.account_id or "", "already_opted_out": already},
    )
    await book.set_status(
        ticket, status=TicketStatus.RESOLVED, by=ASSISTANT, note="marketing opt-out carried out"
    )
    log.info("marketing opt-out carried out on ticket %s", ticket.reference)
    return True
