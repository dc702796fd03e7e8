"""`privacybot cluster`: three workers on one PostgreSQL and Redis behind HAProxy on loopback (``make
cluster``), until Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import tempfile
from pathlib import Path

import click

DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/test?search_path=privacybot_cluster"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


@click.command()
@click.option("--workers", default=3, show_default=True, type=click.IntRange(1, 16))
@click.option("--database-url", default=DEFAULT_DATABASE, show_default=True, help="PostgreSQL shared by all.")
@click.option("--redis-url", default=DEFAULT_REDIS, show_default=True)
@click.option("--port", default=0, type=int, help="HAProxy's port on 127.0.0.1 (default: a free one).")
def cluster(workers: int, database_url: str, redis_url: str, port: int) -> None:
    """Start WORKERS `privacybot run` processes behind HAProxy, print the URL, stop all on Ctrl-C."""
    asyncio.run(_serve(workers, database_url, redis_url, port))


async def _serve(workers: int, database_url: str, redis_url: str, port: int) -> None:
    from bot.cluster.local import ClusterFailed, LocalCluster, ensure_schema

    await ensure_schema(database_url)
    root = Path(tempfile.mkdtemp(prefix="privacybot-cluster-"))
    key = os.environ.get("PRIVACYBOT_SECRET_KEY") or secrets.token_urlsafe(32)
    running = LocalCluster(workers, database_url, redis_url, root, key, port=port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        click.echo(f"starting {workers} workers (logs in {root})", err=True)
        await running.start()
        for worker in running.members:
            click.echo(f"  worker {worker.index}: {worker.url}", err=True)
        click.echo(f"cluster ready: {running.url}  (Ctrl-C stops it)")
        await stop.wait()
    except ClusterFailed as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        await running.stop()
