"""The accounts directory import: CSV rows with at least ``email`` (optionally ``name``, ``account_id``).

Bad rows are reported with their line numbers, never silently dropped; a re-import updates known addresses.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.clock import Clock
from bot.identity.codes import InvalidAddress, normalise_address
from bot.store.accounts import AccountRepository, AccountRow

REQUIRED_COLUMNS = ("email",)
OPTIONAL_COLUMNS = ("name", "account_id")


@dataclass(frozen=True)
class RowProblem:
    """A row that was not imported, and why."""

    line: int
    reason: str


@dataclass(frozen=True)
class ParsedDirectory:
    """The good rows of a CSV and the problems with the others."""

    rows: tuple[AccountRow, ...]
    problems: tuple[RowProblem, ...]


@dataclass(frozen=True)
class ImportReport:
    """What an import did."""

    imported: int
    problems: tuple[RowProblem, ...]
    total_accounts: int


class MissingColumn(ValueError):
    """The CSV header lacks a required column."""

    def __init__(self, column: str) -> None:
        super().__init__(f"the CSV has no {column!r} column")
        self.column = column


def parse_directory(text: str) -> ParsedDirectory:
    """Read the CSV ``text``; raises MissingColumn when the header has no ``email`` column."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    fields = {(name or "").strip().lower(): name for name in reader.fieldnames or ()}
    for column in REQUIRED_COLUMNS:
        if column not in fields:
            raise MissingColumn(column)
    rows: list[AccountRow] = []
    problems: list[RowProblem] = []
    first_line: dict[str, int] = {}
    for record in reader:
        line = reader.line_num
        values = {key: (record.get(original) or "").strip() for key, original in fields.items()}
        if None in record:
            problems.append(RowProblem(line, "more fields than the header"))
            continue
        try:
            email = normalise_address(values["email"])
        except InvalidAddress:
            problems.append(RowProblem(line, "invalid email" if values["email"] else "missing email"))
            continue
        if email in first_line:
            problems.append(RowProblem(line, f"duplicate of line {first_line[email]}"))
            continue
        first_line[email] = line
        rows.append(
            AccountRow(
                email=email, name=values.get("name") or None, account_id=values.get("account_id") or None
            )
        )
    return ParsedDirectory(tuple(rows), tuple(problems))


async def import_directory(
    sessionmaker: async_sessionmaker[AsyncSession], text: str, *, clock: Clock
) -> ImportReport:
    """Upsert the good rows of the CSV ``text`` in one transaction and report the bad ones."""
    parsed = parse_directory(text)
    async with sessionmaker() as session, session.begin():
        accounts = AccountRepository(session)
        for start in range(0, len(parsed.rows), 1000):
            await accounts.upsert(rows=list(parsed.rows[start : start + 1000]), now=clock.now())
        total = await accounts.count()
    return ImportReport(len(parsed.rows), parsed.problems, total)
