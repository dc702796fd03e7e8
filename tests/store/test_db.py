"""The engine factory, URL normalisation, migrations and column types against real databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.domain.channels import ChannelName
from bot.domain.tickets import IdentityMethod, IdentityStatus, Priority, RequestKind, TicketStatus
from bot.store.db import (
    POOL_SIZE,
    UnsupportedDatabase,
    create_engine,
    engine_from_settings,
    normalise_url,
    open_pool,
)
from bot.store.migrate import current_revision, downgrade_database, head_revision, upgrade_database
from bot.store.models import Conversation, Ticket, TicketEvent, TicketEventKind
from tests.support.database import create_schema, drop_schema, postgres_url, postgres_user
from tests.tickets.helpers import make_settings

TABLES = {
    "conversations",
    "messages",
    "tickets",
    "ticket_events",
    "verification_codes",
    "accounts",
    "sla_notifications",
}


@pytest.mark.parametrize(
    ("written", "driver"),
    [
        ("sqlite:///var/privacybot.sqlite3", "sqlite+aiosqlite"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite"),
        ("postgresql://postgres@127.0.0.1:5432/test", "postgresql+asyncpg"),
        ("postgres://u:p@db/x", "postgresql+asyncpg"),
        ("postgresql+asyncpg://u@db/x", "postgresql+asyncpg"),
    ],
)
def test_urls_as_users_write_them_get_the_async_driver(written: str, driver: str) -> None:
    """Plain sqlite:/// and postgresql:// URLs are rewritten to aiosqlite and asyncpg."""
    assert normalise_url(written).drivername == driver


def test_other_databases_are_refused() -> None:
    """A MySQL URL is a clear error, not a confusing driver failure."""
    with pytest.raises(UnsupportedDatabase):
        normalise_url("mysql://u@h/db")


async def test_default_database_is_sqlite_under_the_data_dir(tmp_path: Path) -> None:
    """Without PRIVACYBOT_DATABASE_URL the store is privacybot.sqlite3 under data_dir, created on demand."""
    settings = make_settings(data_dir=tmp_path / "var")
    engine = engine_from_settings(settings)
    try:
        await upgrade_database(engine)
        assert (tmp_path / "var" / "privacybot.sqlite3").exists()
    finally:
        await engine.dispose()


async def test_migrations_create_every_table_and_are_idempotent(engine: AsyncEngine) -> None:
    """Upgrading twice is harmless; the schema holds every table the issue asks for."""
    await upgrade_database(engine)
    assert await current_revision(engine) == head_revision()
    async with engine.connect() as connection:
        names = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    assert names >= TABLES


async def test_downgrade_to_base_removes_everything_and_upgrade_restores_it(engine: AsyncEngine) -> None:
    """The migration reverses cleanly (tests may drop and recreate the schema this way)."""
    await downgrade_database(engine)
    async with engine.connect() as connection:
        names = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    assert not names & TABLES
    await upgrade_database(engine)
    assert await current_revision(engine) == head_revision()


async def test_datetimes_come_back_aware_utc(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """A time written in another zone is read back as the same instant, in UTC, on both backends."""
    cest = timezone(timedelta(hours=2))
    written = datetime(2026, 6, 1, 14, 30, tzinfo=cest)
    async with sessionmaker() as session, session.begin():
        session.add(
            Conversation(
                id="c1",
                channel=ChannelName.WEB,
                sender_id="s",
                state={},
                created_at=written,
                updated_at=written,
            )
        )
    async with sessionmaker() as session:
        row = (await session.scalars(select(Conversation))).one()
    assert row.created_at == written
    assert row.created_at.tzinfo == UTC
    assert row.created_at.hour == 12


async def test_naive_datetimes_are_refused(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """A naive datetime never reaches the database: SLA arithmetic must be in aware UTC."""
    async with sessionmaker() as session:
        session.add(
            Conversation(
                id="c1",
                channel=ChannelName.WEB,
                sender_id="s",
                state={},
                created_at=datetime(2026, 1, 1),
                updated_at=datetime(2026, 1, 1),
            )
        )
        with pytest.raises(StatementError):
            await session.flush()


async def test_audit_trail_is_append_only(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """The database itself refuses to change or delete an audit entry."""
    now = datetime(2026, 3, 2, tzinfo=UTC)
    async with sessionmaker() as session, session.begin():
        ticket = Ticket(
            reference="PRV-2222-3333",
            kind=RequestKind.ACCESS,
            status=TicketStatus.NEW,
            priority=Priority.NORMAL,
            channel=ChannelName.WEB,
            requester_sender_id="s",
            identity_status=IdentityStatus.VERIFIED,
            identity_method=IdentityMethod.EMAIL_CODE,
            language="en",
            created_at=now,
            updated_at=now,
            first_response_due=now,
            due_at=now,
            extension_months=0,
        )
        session.add(ticket)
        await session.flush()
        session.add(
            TicketEvent(ticket_id=ticket.id, at=now, actor="system", event=TicketEventKind.OPENED, detail={})
        )
    for statement in ("UPDATE ticket_events SET actor = 'someone else'", "DELETE FROM ticket_events"):
        async with sessionmaker() as session:
            with pytest.raises(DBAPIError, match="append-only"):
                await session.execute(text(statement))


@pytest.mark.postgres
async def test_search_path_in_the_url_selects_the_schema() -> None:
    """``?search_path=`` in a PostgreSQL URL puts the connection in that schema (test isolation uses it)."""
    user, reason = await postgres_user()
    if user is None:
        pytest.skip(reason)
    schema = await create_schema(user)
    engine = create_engine(postgres_url(user, schema))
    try:
        async with engine.connect() as connection:
            assert await connection.scalar(text("SELECT current_schema()")) == schema
    finally:
        await engine.dispose()
        await drop_schema(user, schema)


async def test_open_pool_opens_every_postgresql_connection_before_traffic(engine: AsyncEngine) -> None:
    """``open_pool`` leaves POOL_SIZE PostgreSQL connections open and idle in the pool, so the first burst
    of turns finds them ready; on SQLite it opens nothing."""
    await open_pool(engine)
    pool = engine.sync_engine.pool
    if engine.dialect.name == "postgresql":
        assert (pool.checkedin(), pool.checkedout()) == (POOL_SIZE, 0)
        async with engine.connect() as connection:  # still usable, and taken from the pool
            assert await connection.scalar(text("SELECT 1")) == 1
        assert pool.checkedin() == POOL_SIZE
    else:
        assert pool.checkedout() == 0
