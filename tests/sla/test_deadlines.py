"""SLA arithmetic: milestones, the next check, calendar months, and refusal of naive datetimes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.sla.deadlines import SlaEventKind, SlaTerms, add_months, latest_passed, milestones, next_check_at

DUE = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)


def test_terms_compute_deadlines() -> None:
    """First response 48 h after creation, resolution 30 days after."""
    created = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    terms = SlaTerms()
    assert terms.first_response_due(created) == DUE
    assert terms.resolution_due(created) == datetime(2026, 4, 1, 9, 0, tzinfo=UTC)


def test_naive_datetimes_are_refused() -> None:
    """A naive datetime in SLA arithmetic is a bug and raises."""
    with pytest.raises(ValueError):
        SlaTerms().first_response_due(datetime(2026, 3, 2, 9, 0))


def test_milestones_in_order() -> None:
    """Reminders 24 h and 4 h before, then the breach at the deadline."""
    keys = [(m.key, m.at) for m in milestones(DUE, (4, 24))]
    assert keys == [
        ("reminder_24h", DUE - timedelta(hours=24)),
        ("reminder_4h", DUE - timedelta(hours=4)),
        ("breach", DUE),
    ]


def test_latest_passed_and_next_check() -> None:
    """Between milestones the latest passed one is due and the next check is the following one."""
    now = DUE - timedelta(hours=10)
    passed = latest_passed(DUE, (24, 4), now)
    assert passed is not None and passed.key == "reminder_24h"
    assert next_check_at(DUE, (24, 4), now) == DUE - timedelta(hours=4)
    assert latest_passed(DUE, (24, 4), DUE - timedelta(hours=30)) is None
    breach = latest_passed(DUE, (24, 4), DUE)
    assert breach is not None and breach.kind is SlaEventKind.BREACH
    assert next_check_at(DUE, (24, 4), DUE) is None


def test_add_months_clamps_the_day() -> None:
    """31 January plus one month is the end of February; months roll over the year."""
    assert add_months(datetime(2026, 1, 31, tzinfo=UTC), 1) == datetime(2026, 2, 28, tzinfo=UTC)
    assert add_months(datetime(2027, 12, 15, tzinfo=UTC), 2) == datetime(2028, 2, 15, tzinfo=UTC)
