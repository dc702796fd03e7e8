"""`privacybot tickets list|show` for the officer at a terminal."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.domain.clock import SystemClock
from bot.domain.tickets import IdentityMethod, IdentityStatus, Priority, RequestKind, TicketSummary
from bot.store.db import create_engine, create_sessionmaker
from bot.store.migrate import upgrade_database
from tests.tickets.helpers import desk_session, new_conversation


async def seed(url: str) -> list[TicketSummary]:
    """Two tickets: an urgent incident and an access request."""
    engine = create_engine(url)
    try:
        await upgrade_database(engine)
        maker = create_sessionmaker(engine)
        clock = SystemClock()
        person = await new_conversation(maker, clock)
        async with desk_session(maker, clock) as (desk, _):
            incident = await desk.open_request(
                person,
                RequestKind.SECURITY_INCIDENT,
                address=None,
                identity=IdentityStatus.UNVERIFIED,
                method=IdentityMethod.NONE,
                priority=Priority.URGENT,
            )
            access = await desk.open_request(
                person,
                RequestKind.ACCESS,
                address="anna@example.com",
                identity=IdentityStatus.VERIFIED,
                method=IdentityMethod.EMAIL_CODE,
            )
        return [incident, access]
    finally:
        await engine.dispose()


def test_list_and_show(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The list is filtered by kind and status; show prints the fields and the audit trail."""
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("PRIVACYBOT_DATABASE_URL", url)
    incident, access = asyncio.run(seed(url))
    runner = CliRunner()
    listed = runner.invoke(main, ["tickets", "list"])
    assert listed.exit_code == 0, listed.output
    assert incident.reference in listed.output and access.reference in listed.output
    only_access = runner.invoke(main, ["tickets", "list", "--kind", "access"])
    assert access.reference in only_access.output and incident.reference not in only_access.output
    waiting = runner.invoke(main, ["tickets", "list", "--status", "awaiting_verification"])
    assert incident.reference in waiting.output and access.reference not in waiting.output
    shown = runner.invoke(main, ["tickets", "show", access.reference.lower()])
    assert shown.exit_code == 0, shown.output
    assert f"Ticket {access.reference}" in shown.output
    assert "anna@example.com" in shown.output and "no account in the directory" in shown.output
    assert "opened" in shown.output
    missing = runner.invoke(main, ["tickets", "show", "PRV-2222-2222"])
    assert missing.exit_code != 0 and "no ticket" in missing.output
