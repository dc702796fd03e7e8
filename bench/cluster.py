"""Benchmark: 1 and 3 workers behind HAProxy on one PostgreSQL and Redis, on the same load, side by side.

    .venv/bin/python -m bench.cluster [--sessions 50] [--messages 20] [--tickets 1000]

For each size: a fresh PostgreSQL schema, the workers (bot.cluster.local.LocalCluster, sweeping every
second, mailing the officer through a local SMTP sink), ``--sessions`` web-chat sessions sending as fast as
answers come (saturated) through HAProxy, then ``--tickets`` tickets whose reminder is due at once. Prints
messages per second, p50/p99 latency, failed requests (refused or errored: the client was told), lost
messages (answered yet not stored), double replies (reply rows
stored beyond the replies answered) and double reminders (reminder mails beyond one per ticket).
Asserts nothing. On a 2-core machine, three workers share the two cores with PostgreSQL, Redis, HAProxy
and the load generator; read the scaling figure with that in mind.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from sqlalchemy import func, select

from bench.core import percentile
from bench.web_chat import RunFigures, count_lost, one_session
from bot.cluster.local import LocalCluster
from bot.store.db import create_engine, create_sessionmaker
from bot.store.migrate import upgrade_database
from bot.store.models import Message, MessageDirection
from tests.support.cluster import reminder_subjects, seed_due_tickets, wait_for_reminders
from tests.support.database import create_schema, drop_schema, postgres_url, postgres_user
from tests.support.mail_servers import SmtpServer, start_smtp_server

REDIS_URL = "redis://127.0.0.1:6379/14"


@dataclass(frozen=True)
class SizeFigures:
    """What one cluster size measured."""

    workers: int
    messages: int
    seconds: float
    p50_ms: float
    p99_ms: float
    failed: int
    failure_reasons: str
    lost: int
    double_replies: int
    reminders: int
    double_reminders: int
    reminder_seconds: float


async def _load(url: str, sessions: int, messages: int) -> tuple[RunFigures, float, int]:
    figures = RunFigures()
    connector = aiohttp.TCPConnector(limit=sessions * 2)
    async with aiohttp.ClientSession(connector=connector) as http:
        started = time.perf_counter()
        await asyncio.gather(*(one_session(http, url, messages, 0.0, figures) for _ in range(sessions)))
        elapsed = time.perf_counter() - started
        lost = await count_lost(http, url, figures)
    return figures, elapsed, lost


def print_failure_evidence(root: Path) -> None:
    """What HAProxy logged (it logs only failed requests) and the error lines of every worker's log."""
    for log_path in sorted(root.glob("**/*.log")):
        lines = log_path.read_text(errors="replace").splitlines()
        if log_path.name != "haproxy.log":
            lines = [line for line in lines if "ERROR" in line or "Traceback" in line]
        for line in lines[-10:]:
            print(f"  {log_path.relative_to(root)}: {line}")


async def measure(workers: int, sessions: int, messages: int, tickets: int, smtp: SmtpServer) -> SizeFigures:
    """Start ``workers`` workers on a fresh schema, load them, count what was stored and mailed."""
    user, reason = await postgres_user()
    if user is None:
        raise SystemExit(reason)
    schema = await create_schema(user)
    database_url = postgres_url(user, schema)
    smtp.sink.messages.clear()
    engine = create_engine(database_url)
    env = {
        "PRIVACYBOT_RATE_LIMIT_PER_MINUTE": "1000000",
        "PRIVACYBOT_LOG_LEVEL": "WARNING",
        "PRIVACYBOT_SWEEP_INTERVAL_SECONDS": "1",
        "PRIVACYBOT_SMTP_HOST": smtp.host,
        "PRIVACYBOT_SMTP_PORT": str(smtp.port),
    }
    try:
        await upgrade_database(engine)
        with tempfile.TemporaryDirectory(prefix="bench-cluster-") as root:
            cluster = LocalCluster(
                workers, database_url, REDIS_URL, Path(root), secrets.token_urlsafe(24), env=env
            )
            await cluster.start()
            try:
                figures, elapsed, lost = await _load(cluster.url, sessions, messages)
                if figures.failed:
                    print_failure_evidence(Path(root))
                await seed_due_tickets(create_sessionmaker(engine), tickets)  # due now: the next sweeps send
                started = time.perf_counter()
                await wait_for_reminders(smtp.sink, tickets, timeout=240)
                reminder_seconds = time.perf_counter() - started
                await asyncio.sleep(3)  # a double would arrive within a sweep or two
            finally:
                await cluster.stop()
        async with create_sessionmaker(engine)() as session:
            stored_replies = await session.scalar(
                select(func.count())
                .select_from(Message)
                .where(Message.direction == MessageDirection.OUTBOUND)
            )
    finally:
        await engine.dispose()
        await drop_schema(user, schema)
    subjects = reminder_subjects(smtp.sink)
    return SizeFigures(
        workers=workers,
        messages=len(figures.latencies_ms),
        seconds=elapsed,
        p50_ms=statistics.median(figures.latencies_ms),
        p99_ms=percentile(figures.latencies_ms, 99),
        failed=figures.failed,
        failure_reasons=figures.failure_reasons(),
        lost=max(0, lost - figures.failed),  # answered 200 yet not stored (a refused one was not accepted)
        double_replies=max(0, int(stored_replies or 0) - figures.replies),
        reminders=len(subjects),
        double_reminders=sum(subjects.values()) - len(subjects),
        reminder_seconds=reminder_seconds,
    )


def report(size: SizeFigures) -> str:
    """One line per cluster size."""
    return (
        f"{size.workers} worker(s): {size.messages / size.seconds:7.1f} msg/s, p50 {size.p50_ms:6.1f} ms, "
        f"p99 {size.p99_ms:6.1f} ms, failed {size.failed}{size.failure_reasons}, lost {size.lost}, "
        f"double replies "
        f"{size.double_replies}; reminders {size.reminders} sent, double {size.double_reminders} "
        f"(all out {size.reminder_seconds:.1f} s after they fell due)"
    )


async def main(sessions: int, messages: int, tickets: int, sizes: list[int]) -> None:
    """Measure each size in turn and print them side by side."""
    smtp = start_smtp_server()
    try:
        results = []
        for workers in sizes:
            results.append(await measure(workers, sessions, messages, tickets, smtp))
            print(report(results[-1]), flush=True)
    finally:
        smtp.controller.stop()
    if len(results) > 1:
        base = results[0].messages / results[0].seconds
        for size in results[1:]:
            print(
                f"{size.workers} vs {results[0].workers} worker(s): "
                f"x{size.messages / size.seconds / base:.2f} throughput"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--tickets", type=int, default=1000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 3])
    args = parser.parse_args()
    asyncio.run(main(args.sessions, args.messages, args.tickets, args.workers))
