"""`privacybot officer add EMAIL`, `privacybot officer token EMAIL`, `privacybot officer revoke EMAIL`."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click

from bot.domain.clock import SystemClock
from bot.identity.codes import InvalidAddress
from bot.officer.accounts import AccountError, OfficerAccounts
from bot.settings import Settings
from bot.store.db import create_sessionmaker, engine_from_settings
from bot.store.migrate import upgrade_database

T = TypeVar("T")


def _with_accounts(work: Callable[[OfficerAccounts], Awaitable[T]]) -> T:
    """Migrate the configured database, run ``work`` on the officer accounts, dispose of the engine."""
    settings = Settings()  # filled from the environment (PRIVACYBOT_*)

    async def run() -> T:
        engine = engine_from_settings(settings)
        try:
            await upgrade_database(engine)
            return await work(OfficerAccounts(create_sessionmaker(engine), clock=SystemClock()))
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except (AccountError, InvalidAddress) as exc:
        raise click.ClickException(str(exc)) from exc


@click.group()
def officer() -> None:
    """Privacy officers: dashboard accounts and API tokens."""


@officer.command()
@click.argument("email")
@click.option("--name", help="How the officer is shown (default: the address).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def add(email: str, name: str | None, password_stdin: bool) -> None:
    """Add an officer who signs in to /officer with EMAIL and a password (asked for, at least 12 chars)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    added = _with_accounts(lambda accounts: accounts.add(email, password, name=name))
    click.echo(f"officer {added.email} added")


@officer.command()
@click.argument("email")
def token(email: str) -> None:
    """Print a new API token for EMAIL (shown once; only its hash is stored)."""
    click.echo(_with_accounts(lambda accounts: accounts.issue_token(email)))


@officer.command()
@click.argument("email")
def revoke(email: str) -> None:
    """Revoke every API token of EMAIL."""
    count = _with_accounts(lambda accounts: accounts.revoke_tokens(email))
    click.echo(f"{count} token(s) revoked")
