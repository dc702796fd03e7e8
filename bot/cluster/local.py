"""A cluster on this machine: N ``privacybot run`` workers on one PostgreSQL and Redis behind HAProxy, all on
loopback. ``make cluster`` (``privacybot cluster``), bench/cluster.py and the cluster tests run it.

Every worker gets its own port and data directory and shares the database, Redis, the secret key and the
model cache. HAProxy balances round robin over the workers that answer ``/readyz`` (checked every second),
forwards websockets, and adds ``X-Forwarded-For`` (trusted by the workers, see PRIVACYBOT_TRUSTED_PROXIES).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import asyncpg
from sqlalchemy.engine import make_url

from bot.settings import PROJECT_ROOT
from bot.store.db import SEARCH_PATH_PARAM

HAPROXY = "/usr/sbin/haproxy"
START_TIMEOUT = 120.0
LOOPBACK = "127.0.0.1"


_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class BadSchemaName(ValueError):
    """The search_path is not a plain lower-case identifier."""


async def ensure_schema(url: str) -> None:
    """``CREATE SCHEMA IF NOT EXISTS`` for the URL's ``search_path`` (PostgreSQL only; else nothing)."""
    parsed = make_url(url)
    schema = parsed.query.get(SEARCH_PATH_PARAM)
    if not parsed.drivername.startswith("postgres") or not isinstance(schema, str):
        return
    if not _SCHEMA_NAME.fullmatch(schema):
        raise BadSchemaName(schema)
    connection = await asyncpg.connect(
        host=parsed.host,
        port=parsed.port,
        user=parsed.username,
        password=parsed.password,
        database=parsed.database,
    )
    try:
        await connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    finally:
        await connection.close()


class ClusterFailed(RuntimeError):
    """A worker or HAProxy did not start; the message ends with its log."""


def free_port() -> int:
    """A TCP port on loopback that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def haproxy_config(port: int, worker_ports: list[int]) -> str:
    """HAProxy's configuration: loopback ``port`` in front, a health-checked server per worker port."""
    servers = "\n".join(
        f"    server w{i} {LOOPBACK}:{worker_port} check" for i, worker_port in enumerate(worker_ports, 1)
    )
    return f"""global
    maxconn 4000
    log stdout format raw local0

defaults
    mode http
    # Only failed or cut-short requests are logged, with no address, path or body: method, status, how the
    # session ended (HAProxy's termination state) and the timers
    log global
    option dontlog-normal
    log-format "%tr %HM %ST %tsc %b/%s %TR/%Tw/%Tc/%Tr/%Ta"
    option forwardfor
    option redispatch
    retries 2
    timeout connect 5s
    timeout client 75s
    timeout server 75s
    timeout tunnel 1h
    timeout http-keep-alive 75s

frontend chat
    bind {LOOPBACK}:{port}
    default_backend workers

backend workers
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    # A saturated worker answers /readyz late, not never: only a refused connection or 3 misses take it out
    timeout check 10s
    default-server inter 1s fall 3 rise 1
{servers}
"""


@dataclass
class Worker:
    """One ``privacybot run`` process."""

    index: int
    port: int
    data_dir: Path
    process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        """The worker's own address (bypassing HAProxy)."""
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def log_path(self) -> Path:
        """Where the worker's output goes."""
        return self.data_dir / "worker.log"

    @property
    def alive(self) -> bool:
        """True while the process runs."""
        return self.process is not None and self.process.returncode is None


@dataclass
class LocalCluster:
    """``workers`` workers behind HAProxy; ``env`` adds settings (``PRIVACYBOT_*``) for every worker."""

    workers: int
    database_url: str
    redis_url: str
    root: Path
    secret_key: str
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    members: list[Worker] = field(default_factory=list)
    _haproxy: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        """HAProxy's address: what clients use."""
        return f"http://{LOOPBACK}:{self.port}"

    async def start(self) -> None:
        """Start every worker (one after the other: the first applies the migrations), wait until each is
        ready, then start HAProxy and wait until it forwards."""
        if not os.path.exists(HAPROXY):  # noqa: ASYNC240  # one stat at start-up
            raise ClusterFailed(f"{HAPROXY} is missing: run `make system-packages`")
        self.port = self.port or free_port()
        self.members = [Worker(i, free_port(), self.root / f"worker-{i}") for i in range(1, self.workers + 1)]
        for worker in self.members:
            await self.start_worker(worker)
        config = self.root / "haproxy.cfg"
        config.write_text(haproxy_config(self.port, [w.port for w in self.members]))
        log = (self.root / "haproxy.log").open("ab")
        self._haproxy = await asyncio.create_subprocess_exec(
            HAPROXY, "-db", "-f", str(config), stdin=subprocess.DEVNULL, stdout=log, stderr=log
        )
        log.close()
        await self._wait_ready(self.url, self.root / "haproxy.log", self._haproxy)

    def worker_env(self, worker: Worker) -> dict[str, str]:
        """The environment of ``worker``."""
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("PRIVACYBOT_")}
        return {
            **inherited,
            "PRIVACYBOT_DATA_DIR": str(worker.data_dir),
            "PRIVACYBOT_MODEL_CACHE_DIR": str(PROJECT_ROOT / "var" / "models"),
            "PRIVACYBOT_WEB_HOST": LOOPBACK,
            "PRIVACYBOT_WEB_PORT": str(worker.port),
            "PRIVACYBOT_DATABASE_URL": self.database_url,
            "PRIVACYBOT_REDIS_URL": self.redis_url,
            "PRIVACYBOT_SECRET_KEY": self.secret_key,
            "PRIVACYBOT_TRUSTED_PROXIES": LOOPBACK,
            "PRIVACYBOT_PUBLIC_URL": self.url,
            **self.env,
        }

    async def start_worker(self, worker: Worker) -> None:
        """(Re)start ``worker``'s process and wait until it is ready."""
        worker.data_dir.mkdir(parents=True, exist_ok=True)
        log = worker.log_path.open("ab")
        worker.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            env=self.worker_env(worker),
            cwd=str(PROJECT_ROOT),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )
        log.close()
        await self._wait_ready(worker.url, worker.log_path, worker.process)

    async def kill(self, worker: Worker) -> None:
        """SIGKILL ``worker`` (a crash: nothing is released) and reap it."""
        if worker.process is not None and worker.alive:
            worker.process.kill()
            await worker.process.wait()

    async def stop_worker(self, worker: Worker, grace: float = 30.0) -> None:
        """SIGTERM ``worker`` and wait for it (SIGKILL after ``grace`` seconds)."""
        if worker.process is None or not worker.alive:
            return
        worker.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(worker.process.wait(), grace)
        except TimeoutError:
            await self.kill(worker)

    async def stop(self) -> None:
        """Stop HAProxy, then every worker."""
        if self._haproxy is not None and self._haproxy.returncode is None:
            self._haproxy.terminate()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._haproxy.wait(), 10)
            if self._haproxy.returncode is None:
                self._haproxy.kill()
                await self._haproxy.wait()
        await asyncio.gather(*(self.stop_worker(worker) for worker in self.members))

    async def _wait_ready(self, url: str, log_path: Path, process: asyncio.subprocess.Process) -> None:
        deadline = asyncio.get_running_loop().time() + START_TIMEOUT
        async with aiohttp.ClientSession() as http:
            while asyncio.get_running_loop().time() < deadline:
                if process.returncode is not None:
                    break
                try:
                    async with http.get(f"{url}/readyz", timeout=aiohttp.ClientTimeout(total=2)) as response:
                        if response.status == 200:
                            return
                except (aiohttp.ClientError, TimeoutError):
                    pass
                await asyncio.sleep(0.2)
        raise ClusterFailed(f"{url} did not become ready:\n{await asyncio.to_thread(_tail, log_path)}")


def _tail(path: Path) -> str:
    return path.read_text(errors="replace")[-3000:] if path.exists() else ""


def remove_tree(path: Path) -> None:
    """Delete a cluster's working directory."""
    shutil.rmtree(path, ignore_errors=True)
