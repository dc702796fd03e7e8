"""Real databases for tests: SQLite in a temp file and PostgreSQL on 127.0.0.1:5432, plus a frozen clock.

Fixtures:

* ``database_url`` — parametrised ``sqlite`` / ``postgresql``. PostgreSQL gets a fresh schema per test
  (``…/test?search_path=t_<hex>``, dropped afterwards); it is skipped, with the reason, only when the server
  is unreachable. The URL is plain (``sqlite:///…``, ``postgresql://…``), as a user would write it.
* ``engine`` — an AsyncEngine on that database, migrated to head with Alembic.
* ``sessionmaker`` — ``async_sessionmaker`` over ``engine`` (``expire_on_commit=False``).
* ``clock`` — a :class:`FrozenClock` at Monday 2 March 2026, 09:00 UTC.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.store.db import create_engine, create_sessionmaker
from bot.store.migrate import upgrade_database

PG_HOST, PG_PORT, PG_DATABASE = "127.0.0.1", 5432, "test"
PG_USERS = ("postgres", "root")
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class FrozenClock:
    """A Clock that stands still until moved."""

    def __init__(self, start: datetime = START) -> None:
        """Stand at ``start`` (aware)."""
        if start.tzinfo is None:
            raise ValueError("FrozenClock needs an aware datetime")
        self.current = start.astimezone(UTC)

    def now(self) -> datetime:
        """The frozen time."""
        return self.current

    def advance(self, delta: timedelta | None = None, **parts: float) -> datetime:
        """Move forward by ``delta`` or ``timedelta(**parts)``; returns the new time."""
        self.current += delta if delta is not None else timedelta(**parts)
        return self.current

    def set(self, moment: datetime) -> None:
        """Jump to ``moment`` (aware)."""
        self.current = moment.astimezone(UTC)


async def postgres_user() -> tuple[str | None, str]:
    """The first user that can connect to the test database, or None with the reason."""
    reason = "no user tried"
    for user in PG_USERS:
        try:
            connection = await asyncpg.connect(
                host=PG_HOST, port=PG_PORT, user=user, database=PG_DATABASE, timeout=3
            )
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            reason = f"PostgreSQL at {PG_HOST}:{PG_PORT}/{PG_DATABASE} unreachable as {user}: {exc}"
            continue
        await connection.close()
        return user, ""
    return None, reason


async def create_schema(user: str) -> str:
    """Create a uniquely named schema in the test database; returns its name."""
    schema = f"t_{uuid.uuid4().hex[:16]}"
    connection = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=user, database=PG_DATABASE)
    try:
        await connection.execute(f'CREATE SCHEMA "{schema}"')
    finally:
        await connection.close()
    return schema


async def drop_schema(user: str, schema: str) -> None:
    """Drop ``schema`` and everything in it."""
    connection = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=user, database=PG_DATABASE)
    try:
        await connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await connection.close()


def postgres_url(user: str, schema: str) -> str:
    """The plain URL of ``schema`` in the test database."""
    return f"postgresql://{user}@{PG_HOST}:{PG_PORT}/{PG_DATABASE}?search_path={schema}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A plain URL of an empty database: a temp SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.sqlite3'}"
        return
    user, reason = await postgres_user()
    if user is None:
        pytest.skip(reason)
    schema = await create_schema(user)
    try:
        yield postgres_url(user, schema)
    finally:
        await drop_schema(user, schema)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on ``database_url``, migrated to the latest revision."""
    built = create_engine(database_url)
    await upgrade_database(built)
    try:
        yield built
    finally:
        await built.dispose()


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions on the migrated test database."""
    return create_sessionmaker(engine)


@pytest.fixture
def clock() -> FrozenClock:
    """A clock frozen at Monday 2 March 2026, 09:00 UTC."""
    return FrozenClock()
