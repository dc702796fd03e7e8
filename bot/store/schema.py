"""A PostgreSQL schema named by a URL's ``search_path``, created when missing (the cluster's own schema)."""

from __future__ import annotations

import re

import asyncpg
from sqlalchemy.engine import make_url

from bot.store.db import SEARCH_PATH_PARAM

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
