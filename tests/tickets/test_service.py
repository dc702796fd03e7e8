"""The officer's ticket services: first response, extensions, status, listing and the full ticket view."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.channels import ChannelName
from bot.domain.dialogue import DialogueState
from bot.domain.errors import ExtensionNotAllowed, TicketClosed, TicketNotFound
from bot.domain.tickets import IdentityMethod, IdentityStatus, RequestKind, TicketStatus, TicketSummary
from bot.messages import InboundMessage, OutboundMessage
from bot.store.models import TicketEventKind
from bot.tickets.desk import sql_turn_store_factory
from responses import Responses
from tests.support.database import FrozenClock
from tests.tickets.helpers import (
    desk_session,
    make_settings,
    new_conversation,
    ticket_service,
)

VERIFIED: dict[str, Any] = {"identity": IdentityStatus.VERIFIED, "method": IdentityMethod.EMAIL_CODE}


async def open_ticket(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FrozenClock,
    kind: RequestKind = RequestKind.ACCESS,
    sender: str = "web-1",
) -> TicketSummary:
    """Open a verified ticket for ``sender``."""
    person = await new_conversation(sessionmaker, clock, sender)
    async with desk_session(sessionmaker, clock) as (desk, _):
        return await desk.open_request(person, kind, address=f"{sender}@example.com", **VERIFIED)


async def test_first_officer_reply_sets_first_response_once(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """Only the first officer reply stops the clock; later replies are audited but change nothing."""
    ticket = await open_ticket(sessionmaker, clock)
    service = ticket_service(sessionmaker, clock)
    first_at = clock.advance(hours=5)
    view = await service.record_officer_reply(ticket.reference, "officer:kim", first_at)
    await service.record_officer_reply(ticket.reference, "officer:lee", first_at + timedelta(hours=2))
    detail = await service.detail(ticket.reference)
    assert view.first_response_at == first_at
    assert view.status is TicketStatus.IN_PROGRESS
    assert detail is not None and detail.ticket.first_response_at == first_at
    events = [e.event for e in detail.audit]
    assert events.count(TicketEventKind.FIRST_RESPONSE) == 1
    assert events.count(TicketEventKind.OFFICER_REPLIED) == 1


async def test_unknown_reference_is_an_error(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """Officer operations on a reference that does not exist raise TicketNotFound."""
    service = ticket_service(sessionmaker, clock)
    with pytest.raises(TicketNotFound):
        await service.record_officer_reply("PRV-2222-2222", "officer:kim")
    assert await service.detail("PRV-2222-2222") is None


async def test_extension_by_up_to_two_months_with_reason(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """One month, then another: due moves by calendar months; a third is refused; reasons are audited."""
    ticket = await open_ticket(sessionmaker, clock)
    service = ticket_service(sessionmaker, clock)
    first = await service.extend_deadline(ticket.reference, 1, "complex request: many systems", "officer:kim")
    assert first.previous_due == ticket.due_at == datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
    assert first.extended_until == datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
    assert first.ticket.requester_address == "web-1@example.com"  # the workspace tells the requester
    second = await service.extend_deadline(ticket.reference, 1, "volume of requests", "officer:kim")
    assert second.extended_until == datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    with pytest.raises(ExtensionNotAllowed) as refused:
        await service.extend_deadline(ticket.reference, 1, "still more", "officer:kim")
    assert refused.value.months_left == 0
    detail = await service.detail(ticket.reference)
    assert detail is not None
    reasons = [e.detail["reason"] for e in detail.audit if e.event is TicketEventKind.DEADLINE_EXTENDED]
    assert reasons == ["complex request: many systems", "volume of requests"]
    assert detail.ticket.extended_until == datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


async def test_extension_limits(sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock) -> None:
    """Three months at once, no reason, or a closed ticket: refused."""
    ticket = await open_ticket(sessionmaker, clock)
    service = ticket_service(sessionmaker, clock)
    with pytest.raises(ExtensionNotAllowed):
        await service.extend_deadline(ticket.reference, 3, "too long", "officer:kim")
    with pytest.raises(ExtensionNotAllowed):
        await service.extend_deadline(ticket.reference, 2, "  ", "officer:kim")
    await service.record_status(
        ticket.reference, TicketStatus.REJECTED, "officer:kim", note="manifestly unfounded"
    )
    with pytest.raises(TicketClosed):
        await service.extend_deadline(ticket.reference, 2, "reason", "officer:kim")


async def test_listing_sorted_by_time_left_and_filtered(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """The least time left comes first; answered tickets count toward their resolution deadline."""
    service = ticket_service(sessionmaker, clock)
    a = await open_ticket(sessionmaker, clock, RequestKind.ACCESS, "a")
    clock.advance(hours=1)
    b = await open_ticket(sessionmaker, clock, RequestKind.ERASURE, "b")
    clock.advance(hours=1)
    c = await open_ticket(sessionmaker, clock, RequestKind.ERASURE, "c")
    await service.record_officer_reply(a.reference, "officer:kim")
    listed = await service.list_tickets()
    assert [t.reference for t in listed] == [b.reference, c.reference, a.reference]
    erasures = await service.list_tickets(kinds=[RequestKind.ERASURE])
    assert {t.reference for t in erasures} == {b.reference, c.reference}
    in_progress = await service.list_tickets(statuses=[TicketStatus.IN_PROGRESS])
    assert [t.reference for t in in_progress] == [a.reference]


async def test_detail_has_audit_and_transcript(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """The full ticket shows the conversation's messages and every audit entry."""
    stores = sql_turn_store_factory(sessionmaker, clock, make_settings(), Responses())
    async with stores() as store:
        conversation = await store.load_conversation(ChannelName.WEB, "web-1")
        assert store.desk is not None
        from bot.domain.tickets import Requester

        person = Requester(ChannelName.WEB, "web-1", conversation.id)
        ticket = await store.desk.open_request(
            person, RequestKind.ACCESS, address="a@example.com", **VERIFIED
        )
        await store.record_turn(
            conversation,
            InboundMessage(ChannelName.WEB, "web-1", "send me my data", received_at=clock.now()),
            [
                OutboundMessage(
                    ChannelName.WEB, "web-1", f"Opened {ticket.reference}", ticket_reference=ticket.reference
                )
            ],
            DialogueState(),
        )
        await store.commit()
    await ticket_service(sessionmaker, clock).assign(ticket.reference, "kim", officer="officer:lee")
    detail = await ticket_service(sessionmaker, clock).detail(ticket.reference)
    assert detail is not None
    assert [line.text for line in detail.transcript] == ["send me my data", f"Opened {ticket.reference}"]
    assert [e.event for e in detail.audit] == [TicketEventKind.OPENED, TicketEventKind.ASSIGNED]
    assert detail.ticket.assignee == "kim"
