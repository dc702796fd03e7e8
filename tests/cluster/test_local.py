"""The local cluster's pieces: its schema is created on demand, HAProxy listens on loopback only."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from bot.cluster.local import BadSchemaName, ensure_schema, haproxy_config
from tests.support.database import PG_DATABASE, PG_HOST, PG_PORT, drop_schema, postgres_user


@pytest.mark.postgres
async def test_ensure_schema_creates_the_search_path_schema_once() -> None:
    """The URL's search_path schema is created when missing; a second call leaves it be."""
    user, reason = await postgres_user()
    if user is None:
        pytest.skip(reason)
    schema = f"c_{uuid.uuid4().hex[:12]}"
    url = f"postgresql://{user}@{PG_HOST}:{PG_PORT}/{PG_DATABASE}?search_path={schema}"
    try:
        await ensure_schema(url)
        await ensure_schema(url)
        connection = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=user, database=PG_DATABASE)
        try:
            found = await connection.fetchval(
                "SELECT count(*) FROM information_schema.schemata WHERE schema_name = $1", schema
            )
        finally:
            await connection.close()
        assert found == 1
    finally:
        await drop_schema(user, schema)


async def test_ensure_schema_refuses_a_name_that_is_not_an_identifier() -> None:
    """A search_path that would need quoting is refused before any SQL is built from it."""
    with pytest.raises(BadSchemaName):
        await ensure_schema('postgresql://u@127.0.0.1/db?search_path=x";drop')


def test_haproxy_listens_on_loopback_and_keeps_websockets_open() -> None:
    """The front binds 127.0.0.1 only, checks /readyz on every worker and lets a websocket live an hour."""
    config = haproxy_config(8000, [8001, 8002, 8003])
    assert "bind 127.0.0.1:8000" in config and "bind *" not in config
    assert config.count(" check\n") == 3 and "option httpchk GET /readyz" in config
    assert "timeout tunnel 1h" in config


def test_haproxy_logs_only_failed_requests_without_addresses_or_paths() -> None:
    """HAProxy logs a request only when it failed or was cut short, and its log line carries neither the
    client's address nor the path (session ids travel in paths) nor the request line."""
    config = haproxy_config(8000, [8001])
    assert "option dontlog-normal" in config and "log stdout" in config
    log_format = next(line for line in config.splitlines() if line.strip().startswith("log-format"))
    for field in ("%ci", "%r", "%HU", "%HP", "%hr"):
        assert field not in log_format
    assert "%ST" in log_format and "%tsc" in log_format
