"""`privacybot run`: the assistant as a server (web chat, configured channels, SLA sweeper)."""

from __future__ import annotations

import click

from bot.settings import Settings


@click.command()
def run() -> None:
    """Serve the web chat and every configured channel until Ctrl-C or SIGTERM."""
    from bot.runner import serve

    serve(Settings())
