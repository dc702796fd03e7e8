"""Alembic environment: migrates on the connection handed over by ``bot.store.migrate``."""

from __future__ import annotations

from alembic import context

from bot.store.schema import metadata

target_metadata = metadata  # every model's table, the officer workspace's included


def run_migrations() -> None:
    """Run on ``config.attributes['connection']``; we never migrate offline or open our own engine here."""
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through bot.store.migrate (privacybot db upgrade)")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
