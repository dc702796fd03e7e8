"""An engine that asks a primary engine and, when it is unavailable, a fallback: the assistant keeps
answering on the embedded engine while a Rasa server restarts."""

from __future__ import annotations

import logging
import time

from nlu.result import EngineUnavailable, NluEngine, ParseResult

log = logging.getLogger(__name__)

# At most one warning per this many seconds while the primary stays down.
_WARN_EVERY = 60.0


class FallbackEngine:
    """Parses with ``primary``; on EngineUnavailable, with ``fallback``."""

    def __init__(self, primary: NluEngine, fallback: NluEngine) -> None:
        self.primary = primary
        self.fallback = fallback
        self.name = primary.name
        self.fallbacks = 0
        self._warned_at = float("-inf")

    async def parse(self, text: str) -> ParseResult:
        """The primary's parse, or the fallback's when the primary cannot answer."""
        try:
            return await self.primary.parse(text)
        except EngineUnavailable as exc:
            self.fallbacks += 1
            now = time.monotonic()
            if now - self._warned_at >= _WARN_EVERY:
                self._warned_at = now
                log.warning(
                    "%s engine unavailable (%s); using %s",
                    self.primary.name,
                    type(exc).__name__,
                    self.fallback.name,
                )
            return await self.fallback.parse(text)
