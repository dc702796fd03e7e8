"""The ticket service's officer side over the real store: the queue, replies on the ticket's channel, status,
extensions, assignment and the CSV export."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import Core
from bot.domain.channels import ChannelName
from bot.domain.errors import EmptyReply, RejectionNeedsReason
from bot.domain.tickets import RequestKind, TicketStatus
from bot.store.models import Message, MessageDirection, TicketEventKind
from bot.tickets.queue import QueueFilter, SlaMark
from tests.officer.conftest import Workspace, build_workspace
from tests.support.database import FrozenClock


async def open_handoff(
    workspace: Workspace, sender: str = "web-1", channel: ChannelName = ChannelName.WEB
) -> str:
    """A person asks for a human; returns the handoff ticket's reference."""
    result = await workspace.say("/human", sender=sender, channel=channel)
    assert result.outcome is not None and result.outcome.ticket_reference
    return result.outcome.ticket_reference


async def test_queue_is_sorted_by_time_left_and_marks_breached_and_due_soon(workspace: Workspace) -> None:
    """Older tickets (less time left) come first; past the deadline is breached, under 24 h is due soon."""
    first = await open_handoff(workspace, "web-a")
    workspace.clock.advance(hours=30)
    second = await open_handoff(workspace, "web-b")
    workspace.clock.advance(hours=20)  # first: 50 h old (breached), second: 20 h old (28 h left)
    items = await workspace.desk.queue()
    assert [i.ticket.reference for i in items] == [first, second]
    assert [i.mark for i in items] == [SlaMark.BREACHED, SlaMark.ON_TRACK]
    workspace.clock.advance(hours=5)
    assert (await workspace.desk.queue())[1].mark is SlaMark.DUE_SOON


async def test_urgent_ticket_comes_first_even_with_more_time_left(workspace: Workspace) -> None:
    """The queue sorts by priority first: an urgent ticket with 4 h left is above a normal one with 3 h."""
    normal = await open_handoff(workspace, "web-a")
    workspace.clock.advance(hours=45)
    result = await workspace.say("someone logged into my account without my permission", sender="web-b")
    assert result.outcome is not None and result.outcome.ticket_reference
    urgent = result.outcome.ticket_reference
    items = await workspace.desk.queue()
    assert [i.ticket.reference for i in items] == [urgent, normal]
    assert [i.time_left for i in items] == [timedelta(hours=4), timedelta(hours=3)]


async def test_queue_filters_by_kind_status_and_channel(workspace: Workspace) -> None:
    """Filters narrow the queue; an empty filter shows every open ticket."""
    web = await open_handoff(workspace, "web-a")
    telegram = await open_handoff(workspace, "42", ChannelName.TELEGRAM)
    by_channel = await workspace.desk.queue(QueueFilter(channels=(ChannelName.TELEGRAM,)))
    assert [i.ticket.reference for i in by_channel] == [telegram]
    assert await workspace.desk.queue(QueueFilter(kinds=(RequestKind.ERASURE,))) == []
    await workspace.desk.set_status(web, TicketStatus.RESOLVED, officer="o@x.test")
    assert [i.ticket.reference for i in await workspace.desk.queue()] == [telegram]
    closed = await workspace.desk.queue(QueueFilter(statuses=(TicketStatus.RESOLVED,)))
    assert [(i.ticket.reference, i.mark) for i in closed] == [(web, SlaMark.CLOSED)]


async def test_reply_goes_to_the_ticket_channel_stops_the_clock_and_is_stored(workspace: Workspace) -> None:
    """The reply is delivered to the requester on their channel, stored as an outbound message of the
    conversation, and the first one records the first response (later ones don't)."""
    reference = await open_handoff(workspace, "77", ChannelName.TELEGRAM)
    sent = await workspace.desk.reply(reference, "Hello, I can help.", officer="o@x.test")
    assert sent.first_response and sent.delivered
    assert sent.ticket.first_response_at == workspace.clock.now()
    delivered = workspace.channels[ChannelName.TELEGRAM].from_officer
    assert [(m.recipient_id, m.ticket_reference) for m in delivered] == [("77", reference)]
    assert "Hello, I can help." in delivered[0].text
    again = await workspace.desk.reply(reference, "More.", officer="o@x.test")
    assert not again.first_response
    page = await workspace.desk.page(reference)
    assert page is not None
    events = [e.event for e in page.detail.audit]
    assert events.count(TicketEventKind.FIRST_RESPONSE) == 1
    assert TicketEventKind.OFFICER_REPLIED in events
    outbound = [line.text for line in page.detail.transcript if line.direction is MessageDirection.OUTBOUND]
    assert any("Hello, I can help." in text for text in outbound)


async def test_self_storing_channel_replies_are_not_stored_twice(
    core: Core, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """For a channel that keeps delivered messages itself (the web chat), the desk does not store it too."""
    workspace = build_workspace(core, sessionmaker, clock, self_storing=frozenset({ChannelName.WEB}))
    reference = await open_handoff(workspace)
    await workspace.desk.reply(reference, "Only once", officer="o@x.test")
    async with sessionmaker() as session:
        texts = (await session.scalars(select(Message.text))).all()
    assert not any("Only once" in text for text in texts)
    assert "Only once" in workspace.channels[ChannelName.WEB].sent[0].text


async def test_reply_refused_by_the_channel_stays_queued_and_is_retried(workspace: Workspace) -> None:
    """A channel that is down keeps the reply in the outbox; a later flush delivers it exactly once."""
    reference = await open_handoff(workspace)
    web = workspace.channels[ChannelName.WEB]
    web.down = True
    sent = await workspace.desk.reply(reference, "Are you there?", officer="o@x.test")
    assert not sent.delivered and sent.first_response
    assert await workspace.outbox.pending() == 1
    assert (await workspace.outbox.flush()).delivered == 0  # not due yet: retried after a delay
    web.down = False
    workspace.clock.advance(minutes=5)
    report = await workspace.outbox.flush()
    assert report.delivered == 1 and await workspace.outbox.pending() == 0
    assert [m.ticket_reference for m in web.sent] == [reference]
    assert (await workspace.outbox.flush()).delivered == 0


async def test_empty_reply_is_refused(workspace: Workspace) -> None:
    """A reply of only spaces is an error, not an empty message."""
    reference = await open_handoff(workspace)
    with pytest.raises(EmptyReply):
        await workspace.desk.reply(reference, "   ", officer="o@x.test")


async def test_rejection_needs_a_reason_which_the_requester_is_told(workspace: Workspace) -> None:
    """Rejecting without a reason is refused; with one, the requester reads it on their channel."""
    reference = await open_handoff(workspace)
    with pytest.raises(RejectionNeedsReason):
        await workspace.desk.set_status(reference, TicketStatus.REJECTED, officer="o@x.test", reason=" ")
    view = await workspace.desk.set_status(
        reference, TicketStatus.REJECTED, officer="o@x.test", reason="We hold no data about you."
    )
    assert view.status is TicketStatus.REJECTED
    told = workspace.channels[ChannelName.WEB].sent[-1]
    assert "We hold no data about you." in told.text and told.ticket_reference == reference


async def test_extension_is_recorded_and_the_requester_is_told_why(workspace: Workspace) -> None:
    """An extension moves the due date, keeps the reason on the audit trail and tells the requester."""
    reference = await open_handoff(workspace, "88", ChannelName.TELEGRAM)
    view = await workspace.desk.extend(reference, 1, "Large archive to search", officer="o@x.test")
    assert view.extended_until is not None and view.extended_until > view.due_at
    told = workspace.channels[ChannelName.TELEGRAM].sent[-1]
    assert "Large archive to search" in told.text and told.recipient_id == "88"


async def test_assignment_and_take(workspace: Workspace) -> None:
    """Assign names the officer; take also moves a new ticket to in progress."""
    reference = await open_handoff(workspace)
    assert (await workspace.desk.assign(reference, "ana@x.test", officer="o@x.test")).assignee == "ana@x.test"
    taken = await workspace.desk.take(reference, officer="telegram:1", assignee="@bo")
    assert taken.assignee == "@bo"
    assert taken.status in (TicketStatus.IN_PROGRESS, TicketStatus.AWAITING_VERIFICATION)


async def test_csv_export_has_every_ticket_and_neutralises_formulas(workspace: Workspace) -> None:
    """The export has a header and one row per ticket; a cell starting with '=' cannot run as a formula."""
    reference = await open_handoff(workspace)
    await workspace.desk.assign(reference, '=HYPERLINK("http://evil")', officer="o@x.test")
    workspace.clock.advance(timedelta(minutes=1))
    text = await workspace.desk.export_csv(QueueFilter(statuses=tuple(TicketStatus)))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["reference"] for row in rows] == [reference]
    assert rows[0]["assignee"].startswith("'=")
    assert rows[0]["kind"] == "handoff"
