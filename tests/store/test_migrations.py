"""The migrated database matches the models exactly, so autogenerate would propose nothing."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.schema import metadata as target_metadata


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, target_metadata))


async def test_migrated_schema_matches_the_models(engine: AsyncEngine) -> None:
    """After `upgrade head`, Alembic's compare_metadata finds no table, column, index or type to change."""
    async with engine.connect() as connection:
        differences = await connection.run_sync(_differences)
    assert differences == []


def test_every_table_is_in_the_migrations_metadata() -> None:
    """The metadata migrations compare against holds the officer tables too, not only bot.store.models'."""
    assert {
        "officers",
        "officer_sessions",
        "officer_api_tokens",
        "delivery_outbox",
        "officer_alerts",
        "tickets",
    } <= set(target_metadata.tables)
