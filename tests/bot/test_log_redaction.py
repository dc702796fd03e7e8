"""The one redacting log filter: nothing private reaches the log, whoever logs it, at any level."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bot.log_redaction import WIRE_LOGGERS, RedactingFilter, redact
from bot.runner import configure_logging
from bot.store.db import create_engine
from tests.support.core import make_settings

SESSION_ID = "A" * 32 + "." + "b" * 22


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """A stderr-like handler on the root logger, removed (with the levels) afterwards."""
    output = io.StringIO()
    handler = logging.StreamHandler(output)
    root = logging.getLogger()
    old_level = root.level
    levels = {name: logging.getLogger(name).level for name in WIRE_LOGGERS}
    root.addHandler(handler)
    yield output
    root.removeHandler(handler)
    root.setLevel(old_level)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    for existing in root.handlers:
        for found in [f for f in existing.filters if isinstance(f, RedactingFilter)]:
            existing.removeFilter(found)


async def test_debug_logs_showed_addresses_codes_and_session_ids(
    tmp_path: Path, log_output: io.StringIO
) -> None:
    """Regression: at DEBUG, addresses, codes and session ids appeared in the log, from our loggers and
    from the libraries' (aiosqlite logs every statement). After the wiring point configured logging, any
    logger's record is redacted, wire loggers stay at WARNING, and references are kept."""
    configure_logging(make_settings(tmp_path, log_level="DEBUG"))
    logging.getLogger("bot.anything").debug(
        "code %s for %s in session %s on PRV-7K3Q-9M2D", "482913", "anna@example.com", SESSION_ID
    )
    logging.getLogger("some.library").debug("payload {'text': 'please erase me, Anna K'} 482 913")
    assert logging.getLogger("aiosqlite").getEffectiveLevel() == logging.WARNING
    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (address TEXT)"))
        await connection.execute(text("INSERT INTO t VALUES (:a)"), {"a": "boris@example.org"})
    await engine.dispose()
    written = log_output.getvalue()
    assert "PRV-7K3Q-9M2D" in written and "[address]" in written and "[code]" in written
    for secret in ("482913", "482 913", "anna@example.com", "boris@example.org", SESSION_ID, "erase me"):
        assert secret not in written


def test_wire_loggers_speak_only_when_asked(tmp_path: Path, log_output: io.StringIO) -> None:
    """PRIVACYBOT_LOG_WIRE=true lets the wire loggers follow the log level (still redacted)."""
    configure_logging(make_settings(tmp_path, log_level="DEBUG", log_wire=True))
    assert logging.getLogger("aioimaplib").getEffectiveLevel() == logging.DEBUG
    logging.getLogger("aioimaplib").debug("C: LOGIN anna@example.com")
    assert "C: LOGIN [address]" in log_output.getvalue()


async def test_sql_errors_carried_the_parameters(tmp_path: Path) -> None:
    """Regression: a failing statement's error text held its parameters (message text, addresses); the
    engine hides them now."""
    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (address TEXT UNIQUE)"))
            await connection.execute(text("INSERT INTO t VALUES (:a)"), {"a": "anna@example.com"})
            with pytest.raises(DBAPIError) as failed:
                await connection.execute(text("INSERT INTO t VALUES (:a)"), {"a": "anna@example.com"})
    except DBAPIError:
        pass
    finally:
        await engine.dispose()
    assert "anna@example.com" not in str(failed.value)


def test_redaction_keeps_what_an_officer_needs() -> None:
    """Ticket references, times, ports and short numbers stay readable."""
    line = "ticket PRV-2345-6789 at 2026-12-02 05:55:01 on port 8080, attempt 3 of 5"
    assert redact(line) == line
