"""Benchmark: SLA sweep time over 100,000 open tickets and ticket-opening throughput, SQLite and PostgreSQL.

    .venv/bin/python -m bench.sweeper [--tickets 100000] [--pg postgresql://postgres@127.0.0.1:5432/test]

PostgreSQL runs in a throw-away schema that is dropped afterwards; SQLite in a temp file. Prints one line per
measurement. The sweep is measured (a) idle: 100,000 open tickets, none due; (b) steady state: the tickets
whose milestone passed in the last sweep interval (60 s) are due, as in production; the notifier is a no-op.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
from sqlalchemy import insert
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.channels import ChannelName
from bot.domain.tickets import IdentityMethod, IdentityStatus, Priority, Requester, RequestKind, TicketStatus
from bot.identity.verification import IdentityVerifier
from bot.sla.deadlines import SlaTerms, next_check_at
from bot.sla.notifier import SlaEvent
from bot.sla.sweeper import SlaSweeper
from bot.store.conversations import ConversationRepository
from bot.store.db import create_engine, create_sessionmaker
from bot.store.migrate import upgrade_database
from bot.store.models import Ticket
from bot.store.turns import given_session
from bot.tickets.desk import TurnDesk
from bot.tickets.references import new_reference
from bot.tickets.service import TicketService
from responses import Responses

TERMS = SlaTerms()
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
INTERVAL = timedelta(seconds=60)


class Clock:
    """A settable clock."""

    def __init__(self) -> None:
        self.current = NOW

    def now(self) -> datetime:
        return self.current


class NullNotifier:
    """Counts events, sends nothing."""

    def __init__(self) -> None:
        self.count = 0

    async def notify(self, event: SlaEvent) -> None:
        self.count += 1


def ticket_rows(count: int) -> list[dict[str, Any]]:
    """Open tickets created over the last 48 hours, their sweeper state as a running sweeper left it."""
    rng = random.Random(7)
    rows = []
    statuses = [TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.AWAITING_VERIFICATION]
    for _ in range(count):
        created = NOW - timedelta(seconds=rng.uniform(0, 48 * 3600))
        first_due = TERMS.first_response_due(created)
        rows.append(
            {
                "reference": new_reference(),
                "kind": rng.choice(list(RequestKind)),
                "status": rng.choice(statuses),
                "priority": Priority.NORMAL,
                "channel": ChannelName.WEB,
                "requester_sender_id": uuid.uuid4().hex,
                "requester_address": f"{uuid.uuid4().hex[:10]}@example.com",
                "identity_status": IdentityStatus.VERIFIED,
                "identity_method": IdentityMethod.EMAIL_CODE,
                "language": "en",
                "created_at": created,
                "updated_at": created,
                "first_response_due": first_due,
                "due_at": TERMS.resolution_due(created),
                "extension_months": 0,
                "sla_check_at": next_check_at(first_due, TERMS.reminder_hours, NOW - INTERVAL),
            }
        )
    return rows


async def fill(maker: async_sessionmaker[AsyncSession], count: int) -> None:
    rows = ticket_rows(count)
    async with maker() as session, session.begin():
        for start in range(0, len(rows), 5000):
            await session.execute(insert(Ticket), rows[start : start + 5000])


async def analyse(maker: async_sessionmaker[AsyncSession]) -> None:
    async with maker() as session, session.begin():
        from sqlalchemy import text

        if session.get_bind().dialect.name == "postgresql":
            await session.execute(text("ANALYZE tickets"))
        else:
            await session.execute(text("ANALYZE"))


async def measure_sweeps(name: str, maker: async_sessionmaker[AsyncSession], count: int) -> None:
    clock = Clock()
    notifier = NullNotifier()
    sweeper = SlaSweeper(maker, notifier=notifier, clock=clock, terms=TERMS)
    clock.current = NOW
    started = time.perf_counter()
    report = await sweeper.sweep_once()
    steady = time.perf_counter() - started
    print(
        f"{name}: steady-state sweep over {count:,} open tickets: {steady * 1000:.1f} ms in all; "
        f"finding and claiming the {report.claimed} due milestones {report.claim_seconds * 1000:.1f} ms, "
        f"delivering {report.sent} (no-op notifier, one commit each) {report.deliver_seconds * 1000:.1f} ms"
    )
    idle = []
    for _ in range(5):
        clock.current += timedelta(seconds=1)
        started = time.perf_counter()
        await sweeper.sweep_once()
        idle.append(time.perf_counter() - started)
    print(f"{name}: idle sweep over {count:,} open tickets: median {sorted(idle)[2] * 1000:.1f} ms")


async def measure_opening(name: str, maker: async_sessionmaker[AsyncSession], count: int) -> None:
    clock = Clock()
    tickets = TicketService(maker, clock=clock, terms=TERMS, responses=Responses())

    def verifier_over(session: AsyncSession) -> IdentityVerifier:
        return IdentityVerifier(session, clock=clock, responses=Responses())

    started = time.perf_counter()
    for n in range(count):
        async with maker() as session:
            conversation = await ConversationRepository(session).get_or_create(
                channel=ChannelName.WEB, sender_id=f"bench-{n}", now=clock.now()
            )
            desk = TurnDesk(given_session(session), tickets=tickets, verifier=verifier_over)
            await desk.open_request(
                Requester(ChannelName.WEB, f"bench-{n}", conversation.id),
                RequestKind.ACCESS,
                address=f"bench-{n}@example.com",
                identity=IdentityStatus.VERIFIED,
                method=IdentityMethod.EMAIL_CODE,
            )
            await session.commit()
    elapsed = time.perf_counter() - started
    print(
        f"{name}: opened {count} tickets (one transaction each, with de-duplication) in {elapsed:.2f} s "
        f"= {count / elapsed:.0f} tickets/s"
    )


async def run_backend(name: str, url: str, tickets: int, opens: int) -> None:
    engine = create_engine(url)
    try:
        await upgrade_database(engine)
        maker = create_sessionmaker(engine)
        started = time.perf_counter()
        await fill(maker, tickets)
        await analyse(maker)
        print(f"{name}: inserted {tickets:,} open tickets in {time.perf_counter() - started:.1f} s")
        await measure_sweeps(name, maker, tickets)
        await measure_opening(name, maker, opens)
    finally:
        await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--opens", type=int, default=500)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        await run_backend("sqlite", f"sqlite:///{tmp}/bench.sqlite3", args.tickets, args.opens)
    if args.no_pg:
        return
    pg = make_url(args.pg)
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(host=pg.host, port=pg.port or 5432, user=pg.username, database=pg.database)
    await admin.execute(f'CREATE SCHEMA "{schema}"')
    try:
        await run_backend("postgresql", f"{args.pg}?search_path={schema}", args.tickets, args.opens)
    finally:
        await admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
