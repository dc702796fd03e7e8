"""A verified marketing opt-out is carried out by the assistant at once: the account in the directory is
flagged, the audit trail says so, and the ticket is resolved (the officer hears of it through the alert
feed, which reports the new ticket as already resolved). An address with no account stays an open ticket
for the officer. Called by the ticket service in the transaction that opens the ticket."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.tickets import IdentityStatus, RequestKind, TicketStatus
from bot.sla.deadlines import SlaTerms
from bot.store.accounts import AccountRepository
from bot.store.models import Ticket, TicketEventKind
from bot.store.tickets import TicketRepository
from bot.tickets.rules import change_status

log = logging.getLogger(__name__)

ASSISTANT = "assistant"


async def carry_out_marketing_opt_out(
    session: AsyncSession, ticket: Ticket, *, now: datetime, terms: SlaTerms
) -> bool:
    """Flag the verified requester's account as opted out and resolve the ticket; False when it is not a
    verified, open marketing opt-out of a known account (then the officer handles it)."""
    if (
        ticket.kind is not RequestKind.MARKETING_OPT_OUT
        or ticket.identity_status is not IdentityStatus.VERIFIED
        or ticket.status.is_closed
        or ticket.requester_address is None
    ):
        return False
    account = await AccountRepository(session).by_email(email=ticket.requester_address)
    if account is None:
        return False
    already = account.marketing_opt_out_at is not None
    if not already:
        account.marketing_opt_out_at = now
    tickets = TicketRepository(session)
    tickets.append_event(
        ticket=ticket,
        at=now,
        actor=ASSISTANT,
        event=TicketEventKind.MARKETING_OPTED_OUT,
        detail={"account_id": account.account_id or "", "already_opted_out": already},
    )
    change_status(
        tickets,
        ticket,
        status=TicketStatus.RESOLVED,
        by=ASSISTANT,
        now=now,
        terms=terms,
        note="marketing opt-out carried out",
    )
    log.info("marketing opt-out carried out on ticket %s", ticket.reference)
    return True
