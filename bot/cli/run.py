"""`privacybot run`: the assistant as a server (web chat, configured channels, SLA sweeper)."""

from __future__ import annotations

import errno
from typing import Any

import click

from bot.settings import Settings


@click.command()
@click.option(
    "--host",
    metavar="ADDRESS",
    help="Address the HTTP server listens on (overrides PRIVACYBOT_WEB_HOST; default 127.0.0.1).",
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    help="Port the HTTP server listens on (overrides PRIVACYBOT_WEB_PORT; default 8080).",
)
def run(host: str | None, port: int | None) -> None:
    """Serve the web chat and every configured channel until Ctrl-C or SIGTERM."""
    from bot.runner import serve

    overrides: dict[str, Any] = {}
    if host is not None:
        overrides["web_host"] = host
    if port is not None:
        overrides["web_port"] = port
    settings = Settings(**overrides)
    try:
        serve(settings)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise click.ClickException(
                f"{settings.web_host}:{settings.web_port} is already in use (another instance?); "
                "pass --port (or set PRIVACYBOT_WEB_PORT) to serve on another port"
            ) from exc
        raise
