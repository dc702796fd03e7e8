"""The `privacybot` command line. The only package that imports click; each command group has a module.

Command modules are imported only when their command runs, so `privacybot ask` does not pay for the
database, mail and web imports of `run` (cold start is a product figure).
"""

from __future__ import annotations

import importlib

import click
from pydantic import ValidationError

# command name -> "module:attribute"
COMMANDS = {
    "ask": "bot.cli.ask:ask",
    "chat": "bot.cli.ask:chat",
    "nlu": "bot.cli.nlu:nlu",
    "db": "bot.cli.store:db",
    "accounts": "bot.cli.store:accounts",
    "tickets": "bot.cli.store:tickets",
    "run": "bot.cli.run:run",
    "cluster": "bot.cli.cluster:cluster",
    "officer": "bot.cli.officer:officer",
    "retention": "bot.cli.store:retention",
    "policy": "bot.cli.policy:policy",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command name, sorted."""
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Import and return the command called ``cmd_name``."""
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, _, attribute = target.partition(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{target} is not a click command")
        return command

    def invoke(self, ctx: click.Context) -> object:
        """Run the command; a setting that does not validate becomes one clear line, not a traceback."""
        try:
            return super().invoke(ctx)
        except ValidationError as exc:
            problems = "; ".join(
                f"PRIVACYBOT_{'_'.join(str(p) for p in error['loc']).upper()}: {error['msg']}"
                if error["loc"]
                else error["msg"]
                for error in exc.errors()
            )
            raise click.ClickException(f"invalid settings: {problems}") from exc


@click.group(cls=LazyGroup)
def main() -> None:
    """ZynorLink privacy assistant."""
