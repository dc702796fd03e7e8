"""A real Rasa server for the whole test session, trained on the project's data (cached by its hash).

The server is supervised by `RasaServer` on an event loop of its own in a background thread, so tests on any
event loop can talk to it over HTTP. Tests that use it are marked `rasa`; without the Rasa env they skip.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from nlu.engines.rasa_env import find_rasa_env
from nlu.engines.rasa_server import RasaServer
from nlu.engines.rasa_train import train_nlu


class _LoopThread:
    """An event loop running in a daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="rasa-loop", daemon=True)
        self.thread.start()

    def run(self, coro: object, timeout: float) -> object:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)  # type: ignore[arg-type]

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@pytest.fixture(scope="session")
def rasa_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a ready Rasa server serving a model trained on nlu/data with config.yml."""
    env = find_rasa_env()
    if env is None:
        pytest.skip("Rasa env not built: run `make rasa`")
    model = train_nlu(env)
    server = RasaServer(env=env, model=model, log_path=tmp_path_factory.mktemp("rasa") / "server.log")
    loop = _LoopThread()
    try:
        loop.run(server.start(), timeout=300)
        yield server.url
    finally:
        loop.run(server.stop(), timeout=60)
        loop.close()
