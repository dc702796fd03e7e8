"""store_unavailable: a database that cannot be reached is told apart from an error about the data."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cluster.local import free_port
from bot.store.db import create_engine, store_unavailable
from tests.support.private_postgres import PrivatePostgres


async def test_a_refused_connection_is_unavailable() -> None:
    """Connecting to a port where no PostgreSQL listens fails with an error store_unavailable recognises."""
    engine = create_engine(f"postgresql://postgres@127.0.0.1:{free_port()}/test")
    try:
        with pytest.raises((SQLAlchemyError, OSError)) as caught:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    finally:
        await engine.dispose()
    assert store_unavailable(caught.value)


async def test_a_constraint_or_syntax_error_is_not_unavailable(engine: AsyncEngine) -> None:
    """A statement the database refuses (bad SQL, a broken constraint) is the message's own failure."""
    with pytest.raises(SQLAlchemyError) as caught:
        async with engine.begin() as connection:
            await connection.execute(text("SELECT * FROM no_such_table"))
    assert not store_unavailable(caught.value)


@pytest.mark.postgres
@pytest.mark.private_postgres
async def test_a_connection_cut_by_a_shutdown_is_unavailable(private_postgres: PrivatePostgres) -> None:
    """A pooled connection that PostgreSQL's fast shutdown cut, and the refused reconnection after it, are
    both recognised."""
    engine = create_engine(private_postgres.url)
    errors: list[BaseException] = []
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            await private_postgres.stop()
            with pytest.raises(SQLAlchemyError) as cut:
                await connection.execute(text("SELECT 1"))
            errors.append(cut.value)
        with pytest.raises((SQLAlchemyError, OSError)) as refused:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        errors.append(refused.value)
    finally:
        await engine.dispose()
    assert [store_unavailable(error) for error in errors] == [True, True]
