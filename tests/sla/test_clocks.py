"""Which deadlines of a ticket are watched, and their milestone keys."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.channels import ChannelName
from bot.domain.tickets import IdentityMethod, IdentityStatus, Priority, RequestKind, TicketStatus
from bot.sla.clocks import next_sla_check, parse_key, reminders_within, still_watched, watched_deadlines
from bot.sla.deadlines import SlaDeadline, SlaEventKind, SlaTerms, add_months
from bot.store.ticket_views import TicketView

CREATED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TERMS = SlaTerms()


def ticket(**changes: object) -> TicketView:
    """A view of an open access ticket created at CREATED (fields overridden by ``changes``)."""
    base = TicketView(
        reference="PRV-AAAA-BBBB",
        kind=RequestKind.ACCESS,
        status=TicketStatus.NEW,
        priority=Priority.NORMAL,
        channel=ChannelName.WEB,
        requester_sender_id="s",
        requester_address=None,
        conversation_id=None,
        identity_status=IdentityStatus.VERIFIED,
        identity_method=IdentityMethod.EMAIL_CODE,
        account_known=False,
        language="en",
        created_at=CREATED,
        first_response_due=TERMS.first_response_due(CREATED),
        first_response_at=None,
        due_at=TERMS.resolution_due(CREATED),
        extended_until=None,
        extension_months=0,
        extension_reason=None,
        assignee=None,
        closed_at=None,
        thread_meta=None,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_urgent_tickets_have_their_own_first_response_clock() -> None:
    """Urgent: 4 h by default; every other priority: the normal 48 h."""
    assert TERMS.first_response_due(CREATED, Priority.URGENT) == CREATED + timedelta(hours=4)
    assert TERMS.first_response_due(CREATED, Priority.HIGH) == CREATED + timedelta(hours=48)
    assert SlaTerms(urgent_first_response_hours=2).first_response_due(
        CREATED, Priority.URGENT
    ) == CREATED + timedelta(hours=2)


def test_short_clock_gets_one_reminder_inside_it() -> None:
    """Reminders longer than the clock are dropped; a clock shorter than all gets one at a quarter."""
    assert reminders_within(timedelta(hours=48), (24, 4)) == (24, 4)
    assert reminders_within(timedelta(hours=4), (24, 4)) == (1,)
    assert reminders_within(timedelta(hours=8), (24, 4)) == (4,)


def test_watched_deadlines_follow_the_ticket() -> None:
    """Open and unanswered: first response and due date; answered: the due date; extended: the extended
    date only; closed: nothing."""
    fresh = ticket()
    assert [w.deadline for w in watched_deadlines(fresh, TERMS)] == [
        SlaDeadline.FIRST_RESPONSE,
        SlaDeadline.RESOLUTION,
    ]
    answered = ticket(first_response_at=CREATED + timedelta(hours=1))
    assert [w.prefix for w in watched_deadlines(answered, TERMS)] == ["due_"]
    extended = ticket(
        first_response_at=CREATED, extended_until=add_months(fresh.due_at, 2), extension_months=2
    )
    assert [(w.deadline, w.prefix) for w in watched_deadlines(extended, TERMS)] == [
        (SlaDeadline.EXTENDED, "ext2_")
    ]
    assert not still_watched("due_reminder_24h", extended, TERMS)
    assert still_watched("ext2_breach", extended, TERMS)
    assert watched_deadlines(ticket(status=TicketStatus.RESOLVED), TERMS) == []


def test_next_check_is_the_earliest_milestone_of_any_deadline() -> None:
    """After the first-response milestones the next check is the due date's 24 h reminder."""
    answered = ticket(first_response_at=CREATED + timedelta(hours=1))
    assert next_sla_check(answered, TERMS, CREATED + timedelta(hours=2)) == answered.due_at - timedelta(
        hours=24
    )
    assert next_sla_check(ticket(), TERMS, CREATED) == ticket().first_response_due - timedelta(hours=24)
    assert next_sla_check(answered, TERMS, answered.due_at) is None


def test_keys_parse_back() -> None:
    """Every key the clocks write parses back to its deadline, kind and hours; others are refused."""
    assert parse_key("reminder_24h").deadline is SlaDeadline.FIRST_RESPONSE
    due = parse_key("due_breach")
    assert (due.deadline, due.kind, due.hours_before) == (SlaDeadline.RESOLUTION, SlaEventKind.BREACH, None)
    ext = parse_key("ext1_reminder_4h")
    assert (ext.deadline, ext.hours_before, ext.prefix) == (SlaDeadline.EXTENDED, 4, "ext1_")
    with pytest.raises(ValueError):
        parse_key("weekly_digest")
