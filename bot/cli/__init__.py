"""The `privacybot` command line. The only package that imports click; each command group has a module."""

from __future__ import annotations

import click

from bot.cli import ask as ask_commands
from bot.cli import nlu as nlu_commands
from bot.cli import officer as officer_commands
from bot.cli import run as run_commands
from bot.cli import store as store_commands


@click.group()
def main() -> None:
    """ZynorLink privacy assistant."""


main.add_command(ask_commands.ask)
main.add_command(ask_commands.chat)
main.add_command(nlu_commands.nlu)
main.add_command(store_commands.db)
main.add_command(store_commands.accounts)
main.add_command(store_commands.tickets)
main.add_command(run_commands.run)
main.add_command(officer_commands.officer)
