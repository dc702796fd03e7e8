"""The accounts directory import: bad rows reported by line, re-imports update, and the CLI command."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli import main
from bot.identity.directory import MissingColumn, import_directory, parse_directory
from bot.store.migrate import head_revision
from bot.store.models import Account
from tests.support.database import FrozenClock

CSV = """email,name,account_id
anna@example.com,Anna K,A-1
not-an-address,Bob,B-2
,Nobody,N-0
ANNA@example.com,Anna again,A-9
carl@example.com,,
"""


def test_bad_rows_are_reported_with_line_numbers() -> None:
    """Invalid, missing and duplicate emails are reported with their line, the rest is kept."""
    parsed = parse_directory(CSV)
    assert [row.email for row in parsed.rows] == ["anna@example.com", "carl@example.com"]
    assert [(p.line, p.reason) for p in parsed.problems] == [
        (3, "invalid email"),
        (4, "missing email"),
        (5, "duplicate of line 2"),
    ]
    assert parsed.rows[1].name is None and parsed.rows[1].account_id is None


def test_email_column_is_required() -> None:
    """A CSV without an email column is refused as a whole."""
    with pytest.raises(MissingColumn):
        parse_directory("name,account_id\nAnna,A-1\n")


async def test_reimport_upserts(sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock) -> None:
    """Importing again updates names and account ids of known addresses and adds new ones."""
    first = await import_directory(sessionmaker, CSV, clock=clock)
    assert (first.imported, first.total_accounts) == (2, 2)
    second = await import_directory(
        sessionmaker,
        "email,name,account_id\nanna@example.com,Anna Kowalska,A-1b\ndora@example.com,Dora,D-4\n",
        clock=clock,
    )
    assert (second.imported, second.total_accounts, second.problems) == (2, 3, ())
    async with sessionmaker() as session:
        anna = (await session.scalars(select(Account).where(Account.email == "anna@example.com"))).one()
    assert (anna.name, anna.account_id) == ("Anna Kowalska", "A-1b")


def test_cli_import_reports_bad_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`privacybot accounts import FILE.csv` upserts good rows, prints bad ones by line and exits 1."""
    monkeypatch.setenv("PRIVACYBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "accounts.csv"
    path.write_text(CSV)
    result = CliRunner().invoke(main, ["accounts", "import", str(path)])
    assert result.exit_code == 1
    assert "imported 2 account(s), skipped 3 bad row(s)" in result.output
    assert f"{path}:3: invalid email" in result.output
    upgrade = CliRunner().invoke(main, ["db", "upgrade"])
    assert upgrade.exit_code == 0 and f"revision {head_revision()}" in upgrade.output
