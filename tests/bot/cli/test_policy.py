"""`privacybot policy versions|diff|announce` as an officer runs them: subprocesses over one SQLite store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.settings import DEFAULT_POLICY, PROJECT_ROOT
from tests.support.mail_servers import SmtpServer

EXE = str(Path(sys.executable).with_name("privacybot"))
OTHER_POLICY = PROJECT_ROOT / "tests" / "policy" / "fixtures" / "harbourline-policy.txt"


def run(
    data_dir: Path, *args: str, policy: Path = DEFAULT_POLICY, smtp: SmtpServer | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `privacybot ARGS` on ``policy`` with its store under ``data_dir``."""
    env = {
        **os.environ,
        "PRIVACYBOT_TESTING": "1",
        "PRIVACYBOT_DATA_DIR": str(data_dir),
        "PRIVACYBOT_POLICY": str(policy),
    }
    if smtp is not None:
        env.update(PRIVACYBOT_SMTP_HOST=smtp.host, PRIVACYBOT_SMTP_PORT=str(smtp.port))
    return subprocess.run(
        [EXE, *args], capture_output=True, text=True, env=env, cwd=PROJECT_ROOT, timeout=120, check=False
    )


def test_two_policies_are_two_versions_and_their_diff_names_sections(tmp_path: Path) -> None:
    """Listing on one policy, then on another, archives two versions (the second current); the same text
    again is the same version; the diff shows the new sections' passages."""
    first = run(tmp_path, "policy", "versions", "--json")
    assert first.returncode == 0, first.stderr
    again = json.loads(run(tmp_path, "policy", "versions", "--json").stdout)
    assert len(again) == 1 and again[0]["current"]
    listed = json.loads(run(tmp_path, "policy", "versions", "--json", policy=OTHER_POLICY).stdout)
    assert len(listed) == 2
    assert {tuple(sorted(v)) for v in listed} == {("current", "effective_from", "first_seen", "id", "sha256")}
    assert [v["current"] for v in listed].count(True) == 1
    new = next(v for v in listed if v["current"])
    old = next(v for v in listed if not v["current"])
    diff = run(tmp_path, "policy", "diff", old["id"], new["id"], policy=OTHER_POLICY)
    assert diff.returncode == 0, diff.stderr
    assert "§ How Long We Hold It (added)" in diff.stdout
    assert "+ Vehicle number plates are erased 30 days after the crossing." in diff.stdout


async def test_announce_refuses_short_notice_and_mails_each_account_once(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    """Ten days ahead is refused; 40 days ahead mails every account in the directory once, with the changed
    sections and the date; repeating the command mails nobody again."""
    assert run(tmp_path, "policy", "versions").returncode == 0
    accounts = tmp_path / "accounts.csv"
    accounts.write_text("email\nanna@example.test\nbahram@example.test\n", encoding="utf-8")
    assert run(tmp_path, "accounts", "import", str(accounts)).returncode == 0
    soon = (datetime.now(UTC) + timedelta(days=10)).date().isoformat()
    refused = run(tmp_path, "policy", "announce", "--effective", soon, policy=OTHER_POLICY, smtp=smtp_server)
    assert refused.returncode != 0 and "30 days" in refused.stderr
    assert smtp_server.sink.messages == []
    later = (datetime.now(UTC) + timedelta(days=40)).date()
    done = run(
        tmp_path,
        "policy",
        "announce",
        "--effective",
        later.isoformat(),
        policy=OTHER_POLICY,
        smtp=smtp_server,
    )
    assert done.returncode == 0, done.stderr
    mails = await smtp_server.sink.wait_for(2)
    assert sorted(r for m in mails for r in m.rcpt_tos) == ["anna@example.test", "bahram@example.test"]
    assert "How Long We Hold It" in mails[0].text and str(later.year) in mails[0].text
    repeat = run(
        tmp_path,
        "policy",
        "announce",
        "--effective",
        later.isoformat(),
        policy=OTHER_POLICY,
        smtp=smtp_server,
    )
    assert repeat.returncode == 0, repeat.stderr
    assert "queued for 0 account(s)" in repeat.stdout
    assert len(smtp_server.sink.messages) == 2
