"""The `privacybot` command line. The only package that imports click; each command group has a module."""

from __future__ import annotations

import click

from bot.cli import ask as ask_commands
from bot.cli import nlu as nlu_commands


@click.group()
def main() -> None:
    """ZynorLink privacy assistant."""


main.add_command(ask_commands.ask)
main.add_command(ask_commands.chat)
main.add_command(nlu_commands.nlu)
