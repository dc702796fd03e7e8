"""Choosing and starting the NLU engine the settings ask for (part of the wiring point).

`embedded` needs nothing more. `rasa` uses the server at PRIVACYBOT_RASA_URL, or trains (if the data
changed) and supervises a `rasa run` child on loopback. If Rasa cannot start, `run` logs it and serves on the
embedded engine; `ask` and `chat` (``required=True``) stop with NluEngineFailed instead, so that nothing is
scored or tried on an engine other than the one asked for. While a Rasa server is down, messages fall back
to the embedded one.

The Rasa client and supervisor are imported only when Rasa is asked for: `privacybot ask` on the embedded
engine does not pay for them at start-up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.domain.memo import Memo
from bot.settings import NluEngineName, Settings
from nlu.engines.embedded import EmbeddedEngine
from nlu.result import NluEngine, ParseResult

if TYPE_CHECKING:
    from nlu.engines.rasa_http import RasaHttpEngine
    from nlu.engines.rasa_server import RasaServer
    from nlu.engines.rasa_train import TrainingProgress

log = logging.getLogger(__name__)


# Texts whose parse the running embedded engine keeps (a few MB at most).
PARSES_REMEMBERED = 4096


class RememberedParses:
    """An engine whose parse of a text never changes (the embedded model, loaded once), asked once per
    text: a message seen before (people ask the same questions) is answered from memory."""

    def __init__(self, engine: NluEngine, size: int = PARSES_REMEMBERED) -> None:
        """Remember ``engine``'s parses of the last ``size`` texts."""
        self.name = engine.name
        self._engine = engine
        self._parses: Memo[str, ParseResult] = Memo(size)

    async def parse(self, text: str) -> ParseResult:
        """The engine's parse of ``text``, remembered."""
        known = self._parses.get(text)
        if known is not None:
            return known
        return self._parses.put(text, await self._engine.parse(text))


class NluEngineFailed(RuntimeError):
    """The engine that was asked for could not start (and falling back was not allowed)."""


@dataclass
class RunningEngine:
    """The engine conversations use, and what must be stopped with it."""

    engine: NluEngine
    server: RasaServer | None = None
    http: RasaHttpEngine | None = None

    async def stop(self) -> None:
        """Close the HTTP session and stop a Rasa child, if any."""
        if self.http is not None:
            await self.http.close()
        if self.server is not None:
            await self.server.stop()


def _log_progress(progress: TrainingProgress) -> None:
    if progress.epoch is None or progress.epoch == progress.epochs or progress.epoch % 10 == 0:
        log.info("rasa training: %s", progress.message)


async def start_nlu_engine(
    settings: Settings,
    embedded: EmbeddedEngine,
    *,
    external_ready_timeout: float = 30.0,
    required: bool = False,
    progress: Callable[[TrainingProgress], None] = _log_progress,
) -> RunningEngine:
    """The engine for ``settings.nlu_engine``, started and ready (an external Rasa server gets
    ``external_ready_timeout`` seconds to answer). Rasa training reports to ``progress``. If Rasa cannot
    start, the embedded engine serves, or with ``required`` NluEngineFailed is raised."""
    if settings.nlu_engine is NluEngineName.EMBEDDED:
        return RunningEngine(RememberedParses(embedded))
    from nlu.engines.fallback import FallbackEngine
    from nlu.engines.rasa_env import RasaEnvMissing, require_rasa_env
    from nlu.engines.rasa_http import RasaHttpEngine
    from nlu.engines.rasa_server import RasaServer, RasaServerFailed
    from nlu.engines.rasa_train import RasaTrainingFailed, train_nlu

    server: RasaServer | None = None
    try:
        if settings.rasa_url:
            server = RasaServer(url=settings.rasa_url, ready_timeout=external_ready_timeout)
        else:
            env = await asyncio.to_thread(require_rasa_env)
            model = await asyncio.to_thread(train_nlu, env, progress=progress)
            server = RasaServer(env=env, model=model)
        await server.start()
    except (RasaEnvMissing, RasaTrainingFailed, RasaServerFailed, OSError, TimeoutError) as exc:
        if server is not None:
            await server.stop()
        if required:
            raise NluEngineFailed(f"Rasa could not start ({type(exc).__name__}: {exc})") from exc
        log.error("Rasa could not start (%s: %s); serving on the embedded engine", type(exc).__name__, exc)
        return RunningEngine(embedded)
    http = RasaHttpEngine(server.url)
    log.info("NLU engine: rasa at %s", server.url)
    return RunningEngine(
        FallbackEngine(http, embedded), server=None if settings.rasa_url else server, http=http
    )


@asynccontextmanager
async def running_nlu_engine(
    settings: Settings,
    embedded: EmbeddedEngine,
    *,
    progress: Callable[[TrainingProgress], None] | None = None,
) -> AsyncIterator[NluEngine]:
    """The engine the settings ask for, for the length of a command (`ask`, `chat`): started first,
    stopped after, never silently replaced. Rasa training prints its progress to stderr unless
    ``progress`` is given. Raises NluEngineFailed."""
    if progress is None:
        from nlu.engines.rasa_train import print_progress

        progress = print_progress
    running = await start_nlu_engine(settings, embedded, required=True, progress=progress)
    try:
        yield running.engine
    finally:
        await running.stop()
