"""A sliding one-minute window per key (a session id, a client address), kept in memory."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

WINDOW_SECONDS = 60.0
# People behind one address (an office, a mobile carrier's NAT) share its allowance.
ADDRESS_SHARE = 10


class SlidingWindowLimiter:
    """Allows ``limit`` events per key in any ``window`` seconds."""

    def __init__(
        self, limit: int, *, window: float = WINDOW_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self._window = window
        self._clock = clock
        self._events: dict[str, deque[float]] = {}
        self._next_prune = 0.0

    def hit(self, key: str) -> int:
        """Count one event for ``key``: 0 when allowed, else the seconds to wait (and it is not counted)."""
        now = self._clock()
        self._prune(now)
        events = self._events.setdefault(key, deque())
        while events and events[0] <= now - self._window:
            events.popleft()
        if len(events) >= self.limit:
            return max(1, math.ceil(events[0] + self._window - now))
        events.append(now)
        return 0

    def _prune(self, now: float) -> None:
        """Forget keys with no event in the window, at most once a window, so memory stays bounded."""
        if now < self._next_prune:
            return
        self._next_prune = now + self._window
        cutoff = now - self._window
        stale = [key for key, events in self._events.items() if not events or events[-1] <= cutoff]
        for key in stale:
            del self._events[key]
