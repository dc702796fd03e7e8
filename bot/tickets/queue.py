"""The officer's queue as values: a ticket's standing against its deadline, the filters, the page, and the
CSV export of a queue."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain.channels import ChannelName
from bot.domain.tickets import RequestKind, TicketStatus
from bot.store.ticket_views import TicketDetail, TicketView

DUE_SOON = timedelta(hours=24)


class SlaMark(StrEnum):
    """How a ticket stands against its next deadline."""

    BREACHED = "breached"
    DUE_SOON = "due_soon"
    ON_TRACK = "on_track"
    CLOSED = "closed"


@dataclass(frozen=True)
class QueueFilter:
    """Which tickets the queue shows; empty tuples mean any (statuses: every open one)."""

    kinds: tuple[RequestKind, ...] = ()
    statuses: tuple[TicketStatus, ...] = ()
    channels: tuple[ChannelName, ...] = ()
    limit: int = 500


EVERY_OPEN_TICKET = QueueFilter()


@dataclass(frozen=True)
class QueueItem:
    """One line of the queue."""

    ticket: TicketView
    deadline: datetime
    time_left: timedelta
    mark: SlaMark


@dataclass(frozen=True)
class TicketPage:
    """Everything the ticket page shows."""

    item: QueueItem
    detail: TicketDetail
    handoff_active: bool
    undelivered: int


@dataclass(frozen=True)
class ReplySent:
    """The reply was recorded; ``delivered`` is False when its channel refused it (it stays queued)."""

    ticket: TicketView
    first_response: bool
    delivered: bool


def sla_item(ticket: TicketView, now: datetime) -> QueueItem:
    """The queue line of ``ticket`` at ``now``."""
    deadline = ticket.next_deadline
    left = deadline - now
    if ticket.status.is_closed:
        mark = SlaMark.CLOSED
    elif left <= timedelta(0):
        mark = SlaMark.BREACHED
    elif left <= DUE_SOON:
        mark = SlaMark.DUE_SOON
    else:
        mark = SlaMark.ON_TRACK
    return QueueItem(ticket, deadline, left, mark)


EXPORT_COLUMNS = (
    "reference",
    "kind",
    "status",
    "priority",
    "channel",
    "identity_status",
    "identity_method",
    "requester_address",
    "account_known",
    "created_at",
    "first_response_due",
    "first_response_at",
    "due_at",
    "extended_until",
    "extension_months",
    "extension_reason",
    "assignee",
    "closed_at",
    "sla",
)


def _export_row(item: QueueItem) -> Sequence[object]:
    t = item.ticket
    return (
        t.reference,
        t.kind.value,
        t.status.value,
        t.priority.value,
        t.channel.value,
        t.identity_status.value,
        t.identity_method.value,
        t.requester_address or "",
        "yes" if t.account_known else "no",
        _iso(t.created_at),
        _iso(t.first_response_due),
        _iso(t.first_response_at),
        _iso(t.due_at),
        _iso(t.extended_until),
        t.extension_months,
        t.extension_reason or "",
        t.assignee or "",
        _iso(t.closed_at),
        item.mark.value,
    )


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""


def _cell(value: object) -> object:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def queue_csv(items: Sequence[QueueItem]) -> str:
    """``items`` as CSV, for record keeping (cells that a spreadsheet would run as formulas are quoted with a
    leading apostrophe)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    for item in items:
        writer.writerow([_cell(value) for value in _export_row(item)])
    return buffer.getvalue()
