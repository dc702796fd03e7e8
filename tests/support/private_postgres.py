"""A private PostgreSQL cluster that a test (or ``bench.chaos``) may stop and start: never the machine's
shared server on 5432.

:class:`PrivatePostgres` runs Debian's ``initdb`` and ``pg_ctl`` (``/usr/lib/postgresql/<n>/bin``) on a
free loopback port, its data in a temp dir, trust authentication for the ``postgres`` user. PostgreSQL
refuses to run as root, so as root every command runs as the ``postgres`` user (``runuser``) on a
directory it owns. :meth:`stop` is a fast shutdown (open connections are cut, as in a restart);
:meth:`start` brings the same cluster back on the same port.

The fixture ``private_postgres`` gives one per test, or skips (with the reason) when the binaries are not
installed.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

BIN_ROOT = Path("/usr/lib/postgresql")
USER = "postgres"
DATABASE = "test"
HOST = "127.0.0.1"


class PostgresNotInstalled(RuntimeError):
    """No Debian PostgreSQL binaries on this machine."""


def postgres_bin() -> Path:
    """The newest ``/usr/lib/postgresql/<n>/bin`` with ``initdb``."""
    candidates = sorted(
        (p / "bin" for p in BIN_ROOT.glob("*") if (p / "bin" / "initdb").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if not candidates:
        raise PostgresNotInstalled(f"no initdb under {BIN_ROOT}")
    return candidates[-1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


class PrivatePostgres:
    """One PostgreSQL cluster in ``root`` on its own port; ``url`` is the plain URL of database ``test``."""

    def __init__(self, root: Path | None = None, *, port: int | None = None) -> None:
        """Nothing runs until :meth:`init` and :meth:`start`."""
        self._bin = postgres_bin()
        self._own_root = root is None
        self.root = Path(tempfile.mkdtemp(prefix="privacybot-pg-")) if root is None else root
        self.data = self.root / "data"
        self.port = port or _free_port()
        self.running = False

    @property
    def url(self) -> str:
        """``postgresql://postgres@127.0.0.1:<port>/test``."""
        return f"postgresql://{USER}@{HOST}:{self.port}/{DATABASE}"

    async def _run(self, *argv: str) -> str:
        command = [str(self._bin / argv[0]), *argv[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", USER, "--", *command]
        process = await asyncio.create_subprocess_exec(
            *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        output, _ = await process.communicate()
        if process.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed ({process.returncode}): {output.decode(errors='replace')}")
        return output.decode(errors="replace")

    async def init(self) -> None:
        """Create the cluster (trust auth, small settings for a test) and start it with database ``test``."""
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.root, USER)
            self.root.chmod(0o755)
        await self._run("initdb", "-D", str(self.data), "-U", USER, "-A", "trust", "-E", "UTF8", "--no-sync")
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"listen_addresses = '{HOST}'\nport = {self.port}\nunix_socket_directories = '{self.root}'\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 120\n"
                "shared_buffers = 32MB\n"
            )
        await self.start()
        connection = await asyncpg.connect(host=HOST, port=self.port, user=USER, database="postgres")
        try:
            await connection.execute(f'CREATE DATABASE "{DATABASE}"')
        finally:
            await connection.close()

    async def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        await self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-w", "start")
        self.running = True

    async def stop(self) -> None:
        """Fast shutdown: every open connection is cut, new ones are refused until :meth:`start`."""
        await self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        self.running = False

    async def destroy(self) -> None:
        """Stop it (immediately) if it runs and remove its directory if this object made it."""
        if self.running:
            await self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
            self.running = False
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
async def private_postgres() -> AsyncIterator[PrivatePostgres]:
    """A running private cluster with an empty database ``test``; removed afterwards."""
    try:
        server = PrivatePostgres()
    except PostgresNotInstalled as exc:
        pytest.skip(str(exc))
    try:
        await server.init()
        yield server
    finally:
        await server.destroy()
