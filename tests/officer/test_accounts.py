"""Officer accounts: argon2id passwords, server-side sessions and hashed API tokens, and the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli import main
from bot.officer.accounts import OfficerAccounts, OfficerExists, WeakPassword, digest
from bot.store.officer_models import Officer, OfficerApiToken, OfficerSession
from tests.support.database import FrozenClock

PASSWORD = "a long enough passphrase"


async def test_password_is_stored_as_argon2id_and_sessions_as_hashes(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """The password hash is argon2id; the session row holds only the id's SHA-256; a wrong password and an
    unknown address both fail alike."""
    accounts = OfficerAccounts(sessionmaker, clock=clock)
    await accounts.add("Ana@Example.test", PASSWORD, name="Ana")
    async with sessionmaker() as session:
        stored = (await session.scalars(select(Officer))).one()
    assert stored.email == "ana@example.test" and stored.password_hash.startswith("$argon2id$")
    assert await accounts.sign_in("ana@example.test", "wrong password") is None
    assert await accounts.sign_in("nobody@example.test", PASSWORD) is None
    signed_in = await accounts.sign_in("ana@example.test", PASSWORD)
    assert signed_in is not None and signed_in.officer.name == "Ana"
    async with sessionmaker() as session:
        row = (await session.scalars(select(OfficerSession))).one()
    assert row.id_hash == digest(signed_in.session_id) and signed_in.session_id not in row.id_hash
    assert (await accounts.session(signed_in.session_id)) == signed_in


async def test_sessions_expire_and_sign_out_ends_them(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """A session is gone after its lifetime or after signing out."""
    accounts = OfficerAccounts(sessionmaker, clock=clock)
    await accounts.add("ana@example.test", PASSWORD)
    first = await accounts.sign_in("ana@example.test", PASSWORD)
    second = await accounts.sign_in("ana@example.test", PASSWORD)
    assert first and second
    await accounts.sign_out(second.session_id)
    assert await accounts.session(second.session_id) is None
    clock.advance(hours=13)
    assert await accounts.session(first.session_id) is None


async def test_duplicate_and_weak_passwords_are_refused(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """One account per address; passwords have at least 12 characters."""
    accounts = OfficerAccounts(sessionmaker, clock=clock)
    with pytest.raises(WeakPassword):
        await accounts.add("ana@example.test", "short")
    await accounts.add("ana@example.test", PASSWORD)
    with pytest.raises(OfficerExists):
        await accounts.add("ANA@example.test", PASSWORD)


async def test_api_tokens_are_stored_hashed_and_can_be_revoked(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """A token identifies its officer; only its hash is stored; revoked tokens stop working."""
    accounts = OfficerAccounts(sessionmaker, clock=clock)
    await accounts.add("ana@example.test", PASSWORD)
    token = await accounts.issue_token("ana@example.test")
    async with sessionmaker() as session:
        assert (await session.scalars(select(OfficerApiToken.token_hash))).one() == digest(token)
    officer = await accounts.officer_for_token(token)
    assert officer is not None and officer.email == "ana@example.test"
    assert await accounts.revoke_tokens("ana@example.test") == 1
    assert await accounts.officer_for_token(token) is None


async def test_api_token_check_wrote_last_used_at_on_every_request(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """Regression: every API request wrote ``last_used_at``. It is written at most once a minute now."""
    accounts = OfficerAccounts(sessionmaker, clock=clock)
    await accounts.add("ana@example.test", PASSWORD)
    token = await accounts.issue_token("ana@example.test")

    async def last_used() -> object:
        async with sessionmaker() as session:
            return (await session.scalars(select(OfficerApiToken.last_used_at))).one()

    first = clock.now()
    assert await accounts.officer_for_token(token) is not None
    assert await last_used() == first
    clock.advance(seconds=59)
    assert await accounts.officer_for_token(token) is not None
    assert await last_used() == first
    clock.advance(seconds=2)
    assert await accounts.officer_for_token(token) is not None
    assert await last_used() == clock.now()


def test_cli_adds_an_officer_and_prints_a_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`privacybot officer add` (password on stdin) then `privacybot officer token` print what was done."""
    monkeypatch.setenv("PRIVACYBOT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PRIVACYBOT_TESTING", "1")
    runner = CliRunner()
    added = runner.invoke(
        main, ["officer", "add", "ana@example.test", "--password-stdin"], input=PASSWORD + "\n"
    )
    assert added.exit_code == 0, added.output
    issued = runner.invoke(main, ["officer", "token", "ana@example.test"])
    assert issued.exit_code == 0 and issued.output.strip().startswith("pbo_")
    unknown = runner.invoke(main, ["officer", "token", "bob@example.test"])
    assert unknown.exit_code == 1 and "no such officer" in unknown.output
