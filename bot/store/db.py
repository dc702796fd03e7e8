"""Database URLs as people write them, and the async engine and session factory built from them."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from bot.domain.channels import ChannelName
from bot.settings import Settings

_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+psycopg2": "postgresql+asyncpg",
    "postgresql+psycopg": "postgresql+asyncpg",
}
SEARCH_PATH_PARAM = "search_path"
# PostgreSQL connections per worker (three workers use 45 of the server's default 100).
POOL_SIZE = 15


class UnsupportedDatabase(ValueError):
    """The URL names a database this project does not run on."""

    def __init__(self, drivername: str) -> None:
        super().__init__(f"unsupported database {drivername!r}: use sqlite:/// or postgresql://")
        self.drivername = drivername


def normalise_url(url: str | URL) -> URL:
    """``sqlite:///x`` → ``sqlite+aiosqlite:///x``, ``postgresql://…`` → ``postgresql+asyncpg://…``."""
    parsed = make_url(url) if isinstance(url, str) else url
    driver = _DRIVERS.get(parsed.drivername, parsed.drivername)
    if driver not in ("sqlite+aiosqlite", "postgresql+asyncpg"):
        raise UnsupportedDatabase(parsed.drivername)
    return parsed.set(drivername=driver)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Foreign keys on, WAL for concurrent readers, and wait instead of failing on a locked database.

    ``synchronous=FULL``: every commit is on disk before the person is told a ticket opened. NORMAL would
    save an fsync per turn but can lose the last commits on a power cut, and a shown reference must exist."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def create_engine(url: str | URL, *, echo: bool = False) -> AsyncEngine:
    """An async engine for ``url`` (normalised first).

    SQLite: the parent directory is created and foreign keys enforced. PostgreSQL: a ``search_path`` query
    parameter (``postgresql://u@h/db?search_path=tenant``) becomes the connection's schema search path.
    """
    parsed = normalise_url(url)
    # Parameters (message text, addresses) never appear in SQLAlchemy's errors or logs.
    kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(parsed, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    # Connections are kept, never opened per burst: past POOL_SIZE checked out, a turn waits for one
    # (SQLAlchemy's default let 10 more open and closed them again on return: a connection set up and torn
    # down per turn under load, several round trips and a server process each).
    kwargs.update(pool_size=POOL_SIZE, max_overflow=0)
    search_path = parsed.query.get(SEARCH_PATH_PARAM)
    if search_path:
        parsed = parsed.difference_update_query([SEARCH_PATH_PARAM])
        kwargs["connect_args"] = {"server_settings": {"search_path": str(search_path)}}
    return create_async_engine(parsed, **kwargs)


async def open_pool(engine: AsyncEngine) -> None:
    """Open every pooled PostgreSQL connection now, before the worker takes traffic, so the first burst of
    turns does not pay for connection set-up (a TCP handshake, authentication and a server process each,
    while other turns queue behind them). SQLite: nothing to open."""
    if engine.dialect.name != "postgresql":
        return
    connections = await asyncio.gather(*(engine.connect() for _ in range(POOL_SIZE)))
    for connection in connections:
        await connection.close()  # back to the pool, still open


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded values after commit (``expire_on_commit=False``)."""
    return async_sessionmaker(engine, expire_on_commit=False)


def engine_from_settings(settings: Settings) -> AsyncEngine:
    """The engine for ``settings.resolved_database_url`` (SQLite under ``data_dir`` by default)."""
    return create_engine(settings.resolved_database_url)


async def begin_writing(session: AsyncSession) -> None:
    """Begin ``session``'s transaction as a writer, before its first read.

    SQLite: ``BEGIN IMMEDIATE`` takes the database's write lock now, so a unit of work that reads and then
    writes (a conversation turn) is serialised against every other writer, in this process or another,
    and never builds on a state that another writer is about to change; a second writer waits (up to
    busy_timeout) instead of failing. PostgreSQL: nothing (rows are locked where they are read)."""
    if session.get_bind().dialect.name == "sqlite":
        await session.execute(text("BEGIN IMMEDIATE"))


def conversation_lock_key(channel: ChannelName, sender_id: str) -> str:
    """The name of the lock a turn of this conversation holds (and a write of its state takes)."""
    return f"conversation:{channel.value}:{sender_id}"


_ADVISORY_XACT_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")


async def lock_for_transaction(session: AsyncSession, key: str) -> None:
    """Wait until no other transaction, on any worker, holds the lock named ``key``; hold it to this
    transaction's end (PostgreSQL's transaction-level advisory lock on a 64-bit hash of ``key``).

    SQLite: nothing here; its writers are serialised by ``BEGIN IMMEDIATE`` and the process's turn lock."""
    if is_postgres(session):
        await session.execute(_ADVISORY_XACT_LOCK, {"key": key})


def dialect_insert(session: AsyncSession, table: Any) -> Any:
    """An INSERT for ``table`` supporting ``on_conflict_do_nothing/update`` on the session's backend."""
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return pg_insert(table) if is_postgres(session) else sqlite_insert(table)


def is_postgres(session: AsyncSession) -> bool:
    """True when the session talks to PostgreSQL (row locks with SKIP LOCKED are available)."""
    return session.get_bind().dialect.name == "postgresql"


# asyncpg's errors for a server that is gone, going or not yet back (SQLSTATE classes 08 and 57, 53300),
# imported lazily by name so that SQLite-only installs need no asyncpg.
_UNAVAILABLE_ASYNCPG = (
    "PostgresConnectionError",
    "ConnectionDoesNotExistError",
    "OperatorInterventionError",
    "TooManyConnectionsError",
)
_CLOSED_CONNECTION = ("connection is closed", "connection was closed", "underlying connection is closed")


def store_unavailable(error: BaseException) -> bool:
    """True when ``error`` (or what caused it) says the database could not be reached or went away: a
    refused or cut connection, a server shutting down or starting up, a pool or connect timeout, SQLite's
    lock timeout. Such a failure says nothing about the message being handled: it is waited out, not
    counted against it. Any other error (a constraint, bad data, a bug) is False."""
    import asyncpg
    from sqlalchemy import exc as sa_exc

    unavailable = tuple(getattr(asyncpg.exceptions, name) for name in _UNAVAILABLE_ASYNCPG)
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (OSError, sa_exc.TimeoutError, *unavailable)):  # OSError has TimeoutError
            return True
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return True
        closed_kinds = asyncpg.exceptions.InterfaceError | sa_exc.InterfaceError | sa_exc.OperationalError
        if isinstance(current, closed_kinds):
            message = str(current).lower()
            if any(part in message for part in _CLOSED_CONNECTION) or "database is locked" in message:
                return True
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else (current.__cause__ or current.__context__)
    return False
