"""PostgreSQL: the audit trail survives TRUNCATE, and the runtime role can touch rows but not the schema."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.db import create_engine
from bot.store.migrate import current_revision, head_revision, upgrade_database
from bot.store.roles import InvalidRoleName, runtime_grants
from tests.support.database import PG_DATABASE, PG_HOST, PG_PORT

pytestmark = pytest.mark.postgres


def _schema(database_url: str) -> str:
    return database_url.rpartition("search_path=")[2]


@pytest.fixture
async def runtime_url(database_url: str, engine: AsyncEngine) -> AsyncIterator[str]:
    """A fresh login role granted the runtime privileges on the migrated test schema; its URL."""
    if not database_url.startswith("postgresql"):
        pytest.skip("roles and TRUNCATE triggers are PostgreSQL's")
    owner = database_url.split("//", 1)[1].split("@", 1)[0]
    role = f"runtime_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=owner, database=PG_DATABASE)
    try:
        await admin.execute(f'CREATE ROLE "{role}" LOGIN')
        for statement in runtime_grants(role=role, schema=_schema(database_url)):
            await admin.execute(statement)
        yield f"postgresql://{role}@{PG_HOST}:{PG_PORT}/{PG_DATABASE}?search_path={_schema(database_url)}"
    finally:
        await admin.execute(f'DROP OWNED BY "{role}"')
        await admin.execute(f'DROP ROLE "{role}"')
        await admin.close()


@pytest.mark.parametrize("table", ["ticket_events", "tickets", "conversations", "accounts"])
async def test_truncate_cascade_emptied_the_audit_trail(
    database_url: str, engine: AsyncEngine, table: str
) -> None:
    """Regression: ``TRUNCATE tickets CASCADE`` emptied the audit trail (row triggers do not fire on
    TRUNCATE). The audit table and each table it hangs from refuse TRUNCATE, even to the owner."""
    if not database_url.startswith("postgresql"):
        pytest.skip("TRUNCATE triggers are PostgreSQL's")
    async with engine.connect() as connection:
        with pytest.raises(DBAPIError, match="audit trail"):
            await connection.execute(text(f"TRUNCATE {table} CASCADE"))


async def test_runtime_role_reads_and_writes_rows_but_changes_no_schema(runtime_url: str) -> None:
    """The role the server runs as inserts and reads rows and passes the start-up upgrade check, but
    cannot create, alter, drop or truncate tables, nor switch the audit triggers off."""
    engine = create_engine(runtime_url)
    try:
        await upgrade_database(engine)  # at head: only reads the revision
        assert await current_revision(engine) == head_revision()
        async with engine.begin() as connection:
            await connection.execute(
                text("INSERT INTO accounts (email, imported_at) VALUES ('a@example.com', now())")
            )
            assert await connection.scalar(text("SELECT count(*) FROM accounts")) == 1
        for statement in (
            "CREATE TABLE intruder (id int)",
            "ALTER TABLE tickets ADD COLUMN intruder int",
            "ALTER TABLE ticket_events DISABLE TRIGGER ALL",
            "DROP TABLE ticket_events",
            "TRUNCATE accounts",
        ):
            async with engine.connect() as connection:
                with pytest.raises(DBAPIError, match=r"permission denied|must be owner|audit trail"):
                    await connection.execute(text(statement))
    finally:
        await engine.dispose()


def test_role_names_are_plain_identifiers() -> None:
    """A role name that could smuggle SQL is refused."""
    with pytest.raises(InvalidRoleName):
        runtime_grants(role='x"; DROP TABLE tickets; --')
