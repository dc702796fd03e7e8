"""Reading filters and form fields into the service's values (shared by the dashboard and the API)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from multidict import MultiMapping

from bot.domain.channels import ChannelName
from bot.domain.tickets import RequestKind, TicketStatus
from bot.tickets.queue import QueueFilter

E = TypeVar("E", bound=StrEnum)


class InvalidField(ValueError):
    """A filter or form field has a value the workspace does not know."""

    def __init__(self, field: str) -> None:
        super().__init__(f"invalid value for {field}")
        self.field = field


def members(enum: type[E], values: Iterable[str], field: str) -> tuple[E, ...]:
    """The members named by ``values`` (empty strings ignored). Raises InvalidField."""
    try:
        return tuple(enum(value) for value in values if value)
    except ValueError as exc:
        raise InvalidField(field) from exc


def queue_filter(query: MultiMapping[str], *, every_status: bool = False) -> QueueFilter:
    """The queue filter of ``?kind=…&status=…&channel=…`` (each may repeat). ``every_status`` makes an
    unfiltered status mean every status (the export) instead of every open one."""
    statuses = members(TicketStatus, query.getall("status", []), "status")
    if not statuses and every_status:
        statuses = tuple(TicketStatus)
    return QueueFilter(
        kinds=members(RequestKind, query.getall("kind", []), "kind"),
        statuses=statuses,
        channels=members(ChannelName, query.getall("channel", []), "channel"),
    )


class QueueOrder(StrEnum):
    """A column the queue can be sorted by (``?sort=priority``, ``?sort=-priority`` for the reverse)."""

    TIME_LEFT = "time_left"
    PRIORITY = "priority"
    REFERENCE = "reference"
    KIND = "kind"
    STATUS = "status"
    CHANNEL = "channel"
    ASSIGNEE = "assignee"
    OPENED = "opened"


@dataclass(frozen=True)
class QueueSort:
    """How the queue page orders its rows; ascending puts the most pressing first where that means
    anything (least time left, most urgent, oldest)."""

    order: QueueOrder = QueueOrder.TIME_LEFT
    descending: bool = False

    def query_value(self, order: QueueOrder) -> str:
        """The ``sort`` value of a link on ``order``'s column: the reverse when it is the current one."""
        reverse = order is self.order and not self.descending
        return f"-{order.value}" if reverse else order.value


def queue_sort(query: MultiMapping[str]) -> QueueSort:
    """The queue order of ``?sort=…``. Raises InvalidField."""
    value = query.get("sort", "") or QueueOrder.TIME_LEFT.value
    try:
        return QueueSort(QueueOrder(value.removeprefix("-")), descending=value.startswith("-"))
    except ValueError as exc:
        raise InvalidField("sort") from exc


def status_of(value: object) -> TicketStatus:
    """A status field. Raises InvalidField."""
    try:
        return TicketStatus(str(value))
    except ValueError as exc:
        raise InvalidField("status") from exc


def months_of(value: object) -> int:
    """An extension's months (1 or 2; the store checks the total). Raises InvalidField."""
    try:
        return int(str(value))
    except ValueError as exc:
        raise InvalidField("months") from exc
