"""A verified marketing opt-out, carried out by the assistant: the account is flagged in the directory
(officer API and `privacybot accounts export`), the audit trail records it, the person is told, and the
ticket closes as resolved with the officer told."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.domain.clock import SystemClock
from bot.domain.tickets import IdentityMethod, IdentityStatus, RequestKind
from bot.identity.directory import import_directory
from bot.store.db import create_engine, create_sessionmaker
from tests.officer.web.conftest import OfficerServer
from tests.support.mail_servers import extract_code
from tests.tickets.helpers import desk_session, new_conversation

HOLDER = "mira@example.test"


async def wait_for_mail(server: OfficerServer, to: str, count: int = 1) -> list[str]:
    """Subjects of the first ``count`` mails to ``to`` (waits up to 10 s for the alert feed)."""
    for _ in range(200):
        subjects = [str(m["Subject"]) for m in server.mail.sent if to in str(m["To"])]
        if len(subjects) >= count:
            return subjects
        await asyncio.sleep(0.05)
    raise AssertionError(f"no mail to {to}")


async def test_verified_opt_out_is_carried_out_and_the_officer_told(officer_server: OfficerServer) -> None:
    """After the code, the chat confirms the opt-out, the account shows it over the API, the ticket is
    resolved with the opt-out on its audit trail, and the officer gets a 'done' notification."""
    await import_directory(
        officer_server.sessionmaker, f"email,name,account_id\n{HOLDER},Mira,ZL-77\n", clock=SystemClock()
    )
    session_id = await officer_server.new_session()
    await officer_server.chat(session_id, "stop sending me marketing emails")
    await officer_server.chat(session_id, HOLDER)
    code = extract_code(next(m for m in officer_server.mail.sent if HOLDER in str(m["To"])))
    answer = await officer_server.chat(session_id, code)
    said = " ".join(answer["replies"])
    assert "is now opted out of marketing" in said and "our privacy officer has been told" in said
    reference = answer["ticket_reference"]

    status, listing = await officer_server.api("GET", f"/accounts?email={HOLDER.upper()}")
    assert status == 200
    [account] = listing["accounts"]
    assert account["account_id"] == "ZL-77" and account["marketing_opt_out"] is True
    assert account["marketing_opt_out_at"]
    status, opted = await officer_server.api("GET", "/accounts?opted_out=true")
    assert [a["email"] for a in opted["accounts"]] == [HOLDER]
    status, _ = await officer_server.api("GET", "/accounts?opted_out=maybe")
    assert status == 400

    status, detail = await officer_server.api("GET", f"/tickets/{reference}")
    assert detail["ticket"]["status"] == "resolved" and detail["ticket"]["kind"] == "marketing_opt_out"
    events = [(entry["event"], entry["actor"]) for entry in detail["audit"]]
    assert ("marketing_opted_out", "assistant") in events
    subjects = await wait_for_mail(officer_server, "privacy@zynorlink.example")
    assert f"[Done] {reference}: marketing opt-out carried out" in subjects


async def test_opt_out_of_an_address_without_account_stays_with_the_officer(
    officer_server: OfficerServer,
) -> None:
    """With no account at the verified address nothing can be flagged: the ticket stays open."""
    session_id = await officer_server.new_session()
    await officer_server.chat(session_id, "stop sending me marketing emails")
    await officer_server.chat(session_id, "nobody@example.test")
    code = extract_code(officer_server.mail.sent[-1])
    answer = await officer_server.chat(session_id, code)
    assert "Your request is open" in " ".join(answer["replies"])
    _, detail = await officer_server.api("GET", f"/tickets/{answer['ticket_reference']}")
    assert detail["ticket"]["status"] == "new"


def test_accounts_export_lists_the_opt_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`privacybot accounts export` prints every account with its opt-out (carried out by the desk);
    `--opted-out` only those. A listing with a formula-prefixed address is refused whole."""
    url = f"sqlite:///{tmp_path / 'accounts.sqlite3'}"
    monkeypatch.setenv("PRIVACYBOT_DATABASE_URL", url)
    listing = tmp_path / "accounts.csv"
    listing.write_text("email,name\nmira@example.test,Mira\n=cmd@example.test,Eve\n", encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(main, ["accounts", "import", str(listing)]).exit_code != 0
    listing.write_text("email,name\nmira@example.test,Mira\n", encoding="utf-8")
    assert runner.invoke(main, ["accounts", "import", str(listing)]).exit_code == 0

    async def opt_out() -> None:
        engine = create_engine(url)
        try:
            maker, clock = create_sessionmaker(engine), SystemClock()
            person = await new_conversation(maker, clock)
            async with desk_session(maker, clock) as (desk, _):
                await desk.open_request(
                    person,
                    RequestKind.MARKETING_OPT_OUT,
                    address=HOLDER,
                    identity=IdentityStatus.VERIFIED,
                    method=IdentityMethod.EMAIL_CODE,
                )
        finally:
            await engine.dispose()

    asyncio.run(opt_out())
    exported = runner.invoke(main, ["accounts", "export"])
    assert exported.exit_code == 0, exported.output
    lines = exported.output.splitlines()
    assert lines[0] == "email,name,account_id,marketing_opt_out,marketing_opt_out_at"
    assert len(lines) == 2 and lines[1].startswith(f"{HOLDER},Mira,,yes,20")
    only = runner.invoke(main, ["accounts", "export", "--opted-out"]).output.splitlines()
    assert [line.split(",")[0] for line in only[1:]] == [HOLDER]
