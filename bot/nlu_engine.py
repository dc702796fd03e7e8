"""Choosing and starting the NLU engine the settings ask for (part of the wiring point).

`embedded` needs nothing more. `rasa` uses the server at PRIVACYBOT_RASA_URL, or trains (if the data
changed) and supervises a `rasa run` child on loopback. If Rasa cannot start, the log says so and the
assistant serves on the embedded engine; while a Rasa server is down, messages fall back to the embedded one.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from bot.settings import NluEngineName, Settings
from nlu.engines.embedded import EmbeddedEngine
from nlu.engines.fallback import FallbackEngine
from nlu.engines.rasa_env import RasaEnvMissing, require_rasa_env
from nlu.engines.rasa_http import RasaHttpEngine
from nlu.engines.rasa_server import RasaServer, RasaServerFailed
from nlu.engines.rasa_train import RasaTrainingFailed, TrainingProgress, train_nlu
from nlu.result import NluEngine

log = logging.getLogger(__name__)


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
    settings: Settings, embedded: EmbeddedEngine, *, external_ready_timeout: float = 30.0
) -> RunningEngine:
    """The engine for ``settings.nlu_engine``, started and ready (an external Rasa server gets
    ``external_ready_timeout`` seconds to answer)."""
    if settings.nlu_engine is NluEngineName.EMBEDDED:
        return RunningEngine(embedded)
    server: RasaServer | None = None
    try:
        if settings.rasa_url:
            server = RasaServer(url=settings.rasa_url, ready_timeout=external_ready_timeout)
        else:
            env = await asyncio.to_thread(require_rasa_env)
            model = await asyncio.to_thread(train_nlu, env, progress=_log_progress)
            server = RasaServer(env=env, model=model)
        await server.start()
    except (RasaEnvMissing, RasaTrainingFailed, RasaServerFailed, OSError, TimeoutError) as exc:
        log.error("Rasa could not start (%s: %s); serving on the embedded engine", type(exc).__name__, exc)
        if server is not None:
            await server.stop()
        return RunningEngine(embedded)
    http = RasaHttpEngine(server.url)
    log.info("NLU engine: rasa at %s", server.url)
    return RunningEngine(
        FallbackEngine(http, embedded), server=None if settings.rasa_url else server, http=http
    )
