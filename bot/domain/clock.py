"""The clock every deadline is computed with: a Protocol, so tests freeze and move time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """Tells the time, as an aware UTC datetime."""

    def now(self) -> datetime:
        """The current time, aware, in UTC."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """``datetime.now(UTC)``."""
        return datetime.now(UTC)


def ensure_utc(value: datetime) -> datetime:
    """``value`` in UTC; a naive datetime is a bug, not a local time, and is refused."""
    if value.tzinfo is None:
        raise ValueError("naive datetime in SLA arithmetic")
    return value.astimezone(UTC)
