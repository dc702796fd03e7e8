"""SLA arithmetic: first-response and resolution deadlines, extensions, and when the officer is reminded."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain.clock import ensure_utc
from bot.settings import DEFAULT_FIRST_RESPONSE_HOURS, DEFAULT_RESOLUTION_DAYS, Settings

MAX_EXTENSION_MONTHS = 2


class SlaEventKind(StrEnum):
    """A reminder before the first-response deadline, or the escalation once it passed."""

    REMINDER = "reminder"
    BREACH = "breach"


@dataclass(frozen=True)
class SlaTerms:
    """The promises: hours to a first response, days to resolve, hours-before reminders."""

    first_response_hours: int = DEFAULT_FIRST_RESPONSE_HOURS
    resolution_days: int = DEFAULT_RESOLUTION_DAYS
    reminder_hours: tuple[int, ...] = (24, 4)

    @classmethod
    def from_settings(cls, settings: Settings) -> SlaTerms:
        """The terms configured in ``settings``."""
        return cls(settings.first_response_hours, settings.resolution_days, tuple(settings.reminder_hours))

    def first_response_due(self, created_at: datetime) -> datetime:
        """When the officer must have answered a ticket created at ``created_at``."""
        return ensure_utc(created_at) + timedelta(hours=self.first_response_hours)

    def resolution_due(self, created_at: datetime) -> datetime:
        """When the request must be resolved, before any extension."""
        return ensure_utc(created_at) + timedelta(days=self.resolution_days)


@dataclass(frozen=True)
class Milestone:
    """One point on the first-response clock: a reminder ``hours_before`` the deadline, or the breach."""

    kind: SlaEventKind
    at: datetime
    hours_before: int | None = None

    @property
    def key(self) -> str:
        """The ``sla_notifications.kind`` value: ``reminder_24h``, ``reminder_4h``, ``breach``."""
        return f"reminder_{self.hours_before}h" if self.kind is SlaEventKind.REMINDER else "breach"


def milestones(first_response_due: datetime, reminder_hours: tuple[int, ...]) -> list[Milestone]:
    """Every reminder and then the breach, in time order."""
    due = ensure_utc(first_response_due)
    reminders = [
        Milestone(SlaEventKind.REMINDER, due - timedelta(hours=h), h)
        for h in sorted(set(reminder_hours), reverse=True)
        if h > 0
    ]
    return [*reminders, Milestone(SlaEventKind.BREACH, due)]


def latest_passed(
    first_response_due: datetime, reminder_hours: tuple[int, ...], now: datetime
) -> Milestone | None:
    """The most recent milestone at or before ``now`` (older ones are superseded, never sent late)."""
    passed = [m for m in milestones(first_response_due, reminder_hours) if m.at <= now]
    return passed[-1] if passed else None


def next_check_at(
    first_response_due: datetime, reminder_hours: tuple[int, ...], now: datetime
) -> datetime | None:
    """When the sweeper next has to look at the ticket, or None after the breach milestone."""
    upcoming = [m.at for m in milestones(first_response_due, reminder_hours) if m.at > now]
    return upcoming[0] if upcoming else None


def add_months(value: datetime, months: int) -> datetime:
    """``value`` plus calendar months, clamping the day (31 January + 1 month = 28/29 February)."""
    month_index = value.month - 1 + months
    year, month = value.year + month_index // 12, month_index % 12 + 1
    day = min(value.day, calendar.monthrange(year, month)[1])
    return value.replace(year=year, month=month, day=day)
