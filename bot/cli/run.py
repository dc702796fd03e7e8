"""`privacybot run`: the assistant as a server (web chat, configured channels, SLA sweeper)."""

from __future__ import annotations

import errno

import click

from bot.settings import Settings


@click.command()
def run() -> None:
    """Serve the web chat and every configured channel until Ctrl-C or SIGTERM."""
    from bot.runner import serve

    settings = Settings()
    try:
        serve(settings)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise click.ClickException(
                f"{settings.web_host}:{settings.web_port} is already in use (another instance?); "
                "set PRIVACYBOT_WEB_PORT to serve on another port"
            ) from exc
        raise
