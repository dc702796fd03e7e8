"""Which deadlines of a ticket are watched, and the reminders and escalations each one gets.

An open ticket is watched on its first response (until one is given) and on its resolution date (the
extended one once the deadline was extended). Each watched deadline has its own milestone keys in
``sla_notifications``: ``reminder_24h`` / ``breach`` for the first response, ``due_reminder_24h`` /
``due_breach`` for the resolution date, ``ext1_…`` / ``ext2_…`` for an extension to one or two months, so
each is claimed once and a restart repeats none of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot.domain.tickets import TicketStatus
from bot.sla.deadlines import Milestone, SlaDeadline, SlaEventKind, SlaTerms, latest_passed, milestones

RESOLUTION_PREFIX = "due_"
EXTENDED_PREFIX = "ext"


class ClockedTicket(Protocol):
    """What the clocks read of a ticket (an ORM row or a view)."""

    @property
    def status(self) -> TicketStatus: ...

    @property
    def created_at(self) -> datetime: ...

    @property
    def first_response_due(self) -> datetime: ...

    @property
    def first_response_at(self) -> datetime | None: ...

    @property
    def due_at(self) -> datetime: ...

    @property
    def extended_until(self) -> datetime | None: ...

    @property
    def extension_months(self) -> int: ...


@dataclass(frozen=True)
class WatchedDeadline:
    """A deadline the sweeper watches: when it is, the key prefix of its milestones, its reminder hours."""

    deadline: SlaDeadline
    at: datetime
    prefix: str
    reminder_hours: tuple[int, ...]


@dataclass(frozen=True)
class MilestoneKey:
    """A parsed ``sla_notifications.kind``."""

    deadline: SlaDeadline
    kind: SlaEventKind
    hours_before: int | None
    prefix: str


def reminders_within(span: timedelta, reminder_hours: tuple[int, ...]) -> tuple[int, ...]:
    """The reminder hours that fall after the clock started; a clock shorter than all of them (an urgent
    ticket's 4 h) gets one reminder a quarter of its length before the end, not silence until the breach."""
    hours = int(span.total_seconds() // 3600)
    inside = tuple(h for h in reminder_hours if 0 < h < hours)
    if inside:
        return inside
    return (max(1, hours // 4),) if hours >= 2 else ()


def watched_deadlines(ticket: ClockedTicket, terms: SlaTerms) -> list[WatchedDeadline]:
    """The deadlines of ``ticket`` that still matter (none once it is closed)."""
    if ticket.status.is_closed:
        return []
    watched: list[WatchedDeadline] = []
    if ticket.first_response_at is None:
        span = ticket.first_response_due - ticket.created_at
        watched.append(
            WatchedDeadline(
                SlaDeadline.FIRST_RESPONSE,
                ticket.first_response_due,
                "",
                reminders_within(span, terms.reminder_hours),
            )
        )
    if ticket.extended_until is not None:
        prefix = f"{EXTENDED_PREFIX}{ticket.extension_months}_"
        watched.append(
            WatchedDeadline(SlaDeadline.EXTENDED, ticket.extended_until, prefix, terms.reminder_hours)
        )
    else:
        watched.append(
            WatchedDeadline(SlaDeadline.RESOLUTION, ticket.due_at, RESOLUTION_PREFIX, terms.reminder_hours)
        )
    return watched


def due_milestones(ticket: ClockedTicket, terms: SlaTerms, now: datetime) -> list[Milestone]:
    """The latest passed milestone of every watched deadline (older ones are superseded, never sent late)."""
    found = []
    for watched in watched_deadlines(ticket, terms):
        milestone = latest_passed(watched.at, watched.reminder_hours, now, watched.prefix)
        if milestone is not None:
            found.append(milestone)
    return found


def next_sla_check(ticket: ClockedTicket, terms: SlaTerms, now: datetime) -> datetime | None:
    """When the sweeper next has something to do for ``ticket``, or None."""
    upcoming = [
        milestone.at
        for watched in watched_deadlines(ticket, terms)
        for milestone in milestones(watched.at, watched.reminder_hours, watched.prefix)
        if milestone.at > now
    ]
    return min(upcoming) if upcoming else None


def parse_key(key: str) -> MilestoneKey:
    """``due_reminder_24h`` → resolution, reminder, 24 h; raises ValueError on a key no clock writes."""
    deadline, prefix, rest = SlaDeadline.FIRST_RESPONSE, "", key
    if key.startswith(RESOLUTION_PREFIX):
        deadline, prefix = SlaDeadline.RESOLUTION, RESOLUTION_PREFIX
    elif key.startswith(EXTENDED_PREFIX):
        deadline, prefix = SlaDeadline.EXTENDED, key[: key.index("_") + 1]
    rest = key.removeprefix(prefix)
    if rest == "breach":
        return MilestoneKey(deadline, SlaEventKind.BREACH, None, prefix)
    if rest.startswith("reminder_") and rest.endswith("h"):
        return MilestoneKey(deadline, SlaEventKind.REMINDER, int(rest[9:-1]), prefix)
    raise ValueError(f"not an SLA milestone key: {key!r}")


def still_watched(key: str, ticket: ClockedTicket, terms: SlaTerms) -> bool:
    """Whether the milestone ``key`` still concerns a watched deadline (not answered, closed or superseded
    by an extension)."""
    prefix = parse_key(key).prefix
    return any(watched.prefix == prefix for watched in watched_deadlines(ticket, terms))
