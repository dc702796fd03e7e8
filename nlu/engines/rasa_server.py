"""A Rasa server (`rasa run --enable-api`) run as a managed child process.

`RasaServer` starts the server on a free loopback port (or only waits for one at a given URL),
waits until it has loaded its model, restarts it if it dies, and stops it (terminate, then kill)
when asked or when this process dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import socket
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Self

import aiohttp

from nlu.engines.rasa_env import RasaEnv

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1


class RasaServerFailed(RuntimeError):
    """The Rasa server did not become ready (it exited, or took longer than allowed)."""

    def __init__(self, url: str, reason: str, log_tail: str = "") -> None:
        message = f"Rasa server at {url}: {reason}"
        super().__init__(f"{message}\n{log_tail}" if log_tail else message)
        self.url = url
        self.reason = reason
        self.log_tail = log_tail


def free_loopback_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM when the parent dies, so no server outlives the bot."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class RasaServer:
    """A `rasa run` child process serving one model, or an external server at ``url``.

    With ``url`` nothing is spawned: `start()` only waits until that server answers. Otherwise
    ``env`` and ``model`` are required and the server listens on ``host:port`` (a free port when
    ``port`` is None). A watch task restarts the child whenever it exits unexpectedly, on the same
    port, with a backoff that grows while restarts keep failing.
    """

    def __init__(
        self,
        *,
        env: RasaEnv | None = None,
        model: Path | None = None,
        url: str | None = None,
        host: str = "127.0.0.1",
        port: int | None = None,
        ready_timeout: float = 180.0,
        stop_timeout: float = 10.0,
        log_path: Path | None = None,
    ) -> None:
        if url is None and (env is None or model is None):
            raise ValueError("RasaServer needs either url, or env and model")
        self._env = env
        self._model = model.resolve() if model else None  # the child runs in the model's folder
        self._external_url = url.rstrip("/") if url else None
        self._host = host
        self._port = port
        self._ready_timeout = ready_timeout
        self._stop_timeout = stop_timeout
        self._log_path = log_path or (model.parent / "rasa-server.log" if model else None)
        self._process: asyncio.subprocess.Process | None = None
        self._log_file: IO[bytes] | None = None
        self._watch_task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._stopping = False
        self.restarts = 0
        """How many times the watch task restarted a dead server."""

    @property
    def url(self) -> str:
        """Base URL of the server (valid once `start()` has picked the port)."""
        if self._external_url:
            return self._external_url
        if self._port is None:
            raise RuntimeError("RasaServer.url is known only after start()")
        return f"http://{self._host}:{self._port}"

    @property
    def pid(self) -> int | None:
        """Process id of the running child, or None (external server, or not running)."""
        process = self._process
        return process.pid if process is not None and process.returncode is None else None

    @property
    def is_ready(self) -> bool:
        """True while the server is known to answer."""
        return self._ready.is_set()

    async def start(self) -> None:
        """Start the server (unless external) and wait until it has loaded its model."""
        self._stopping = False
        if self._external_url:
            await self._wait_ready(None)
            return
        assert self._model is not None
        if not self._model.is_file():
            # `rasa run` would start anyway, without a model, and never become ready.
            raise RasaServerFailed(self.url if self._port else "(not started)", f"no model at {self._model}")
        if self._port is None:
            self._port = free_loopback_port()
        await self._spawn()
        try:
            await self._wait_ready(self._process)
        except BaseException:
            await self._terminate()
            raise
        self._watch_task = asyncio.create_task(self._watch(), name="rasa-server-watch")

    async def wait_ready(self) -> None:
        """Wait until the server answers again (after a restart, say); bound it with `asyncio.timeout`."""
        await self._ready.wait()

    async def stop(self) -> None:
        """Stop watching and stop the child: SIGTERM, then SIGKILL after ``stop_timeout``."""
        self._stopping = True
        self._ready.clear()
        if self._watch_task is not None:
            self._watch_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch_task
            self._watch_task = None
        await self._terminate()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def _spawn(self) -> None:
        assert self._env is not None and self._model is not None and self._log_path is not None
        self._log_path.parent.mkdir(parents=True, exist_ok=True)
        if self._log_file is None:
            self._log_file = self._log_path.open("ab")
        command = [
            str(self._env.rasa), "run", "--enable-api",
            "-m", str(self._model),
            "--port", str(self._port),
            "-i", self._host,
        ]  # fmt: skip
        self._process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=asyncio.subprocess.STDOUT,
            env=self._env.subprocess_env(),
            cwd=self._model.parent,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        log.info("Started Rasa server pid %s on %s", self._process.pid, self.url)

    async def _wait_ready(self, process: asyncio.subprocess.Process | None) -> None:
        """Poll `GET /status` until it answers 200 (the model is loaded); fail if the child exits."""
        started = time.monotonic()
        deadline = started + self._ready_timeout
        probe = aiohttp.ClientTimeout(total=2.0)
        async with aiohttp.ClientSession(timeout=probe) as session:
            while True:
                if process is not None and process.returncode is not None:
                    raise RasaServerFailed(self.url, f"exited with {process.returncode}", self._log_tail())
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with session.get(f"{self.url}/status") as response:
                        if response.status == 200:
                            break
                if time.monotonic() > deadline:
                    raise RasaServerFailed(
                        self.url, f"not ready after {self._ready_timeout:.0f} s", self._log_tail()
                    )
                await asyncio.sleep(0.5)
        self._ready.set()
        log.info("Rasa server on %s ready after %.1f s", self.url, time.monotonic() - started)

    async def _watch(self) -> None:
        """Restart the child whenever it exits while we are not stopping."""
        backoff = 1.0
        while not self._stopping:
            if self._process is not None:
                code = await self._process.wait()
                self._ready.clear()
                if self._stopping:
                    return
                self.restarts += 1
                log.warning("Rasa server exited with %s; restart #%d in %.0f s", code, self.restarts, backoff)
            await asyncio.sleep(backoff)
            try:
                await self._spawn()
                await self._wait_ready(self._process)
            except (RasaServerFailed, OSError) as exc:
                log.error("Rasa server restart failed: %s", exc)
                await self._terminate()
                backoff = min(backoff * 2, 60.0)
            else:
                backoff = 1.0

    async def _terminate(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), self._stop_timeout)
            except TimeoutError:
                log.warning("Rasa server pid %s ignored SIGTERM; killing it", process.pid)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                await process.wait()
            log.info("Stopped Rasa server pid %s", process.pid)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def _log_tail(self, size: int = 3000) -> str:
        if self._log_path is None or not self._log_path.is_file():
            return ""
        with self._log_path.open("rb") as handle:
            handle.seek(max(0, os.fstat(handle.fileno()).st_size - size))
            return handle.read().decode("utf-8", "replace")
