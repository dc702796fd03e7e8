"""Three (or N) real ``privacybot run`` workers on a fresh PostgreSQL schema and Redis, behind HAProxy.

:func:`running_cluster` starts them (bot.cluster.local.LocalCluster) and removes everything afterwards;
:func:`seed_web_ticket` and :func:`seed_due_tickets` put tickets in the shared database the way the
ticket book leaves them; :func:`officer_token` signs an officer up and issues an API token.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cluster.local import LocalCluster
from bot.domain.channels import ChannelName
from bot.domain.clock import SystemClock
from bot.domain.tickets import IdentityMethod, IdentityStatus, Priority, RequestKind, TicketStatus
from bot.officer.accounts import OfficerAccounts
from bot.sla.deadlines import SlaTerms, next_check_at
from bot.store.db import create_engine, create_sessionmaker
from bot.store.migrate import upgrade_database
from bot.store.models import Ticket
from bot.tickets.references import new_reference
from tests.support.database import create_schema, drop_schema, postgres_url, postgres_user
from tests.support.mail_servers import MailSink

OFFICER = "officer.cluster@zynorlink.example"


@asynccontextmanager
async def running_cluster(
    root: Path,
    redis_url: str,
    *,
    workers: int = 3,
    env: dict[str, str] | None = None,
    prepare: Callable[[async_sessionmaker[AsyncSession]], Awaitable[object]] | None = None,
) -> AsyncIterator[LocalCluster]:
    """``workers`` workers behind HAProxy on a fresh schema (dropped afterwards); skipped without PG.
    ``prepare`` gets the migrated database before the workers start (to seed it)."""
    user, reason = await postgres_user()
    if user is None:
        pytest.skip(reason)
    schema = await create_schema(user)
    cluster = LocalCluster(
        workers, postgres_url(user, schema), redis_url, root, secrets.token_urlsafe(24), env=dict(env or {})
    )
    try:
        if prepare is not None:
            engine = create_engine(cluster.database_url)
            try:
                await upgrade_database(engine)
                await prepare(create_sessionmaker(engine))
            finally:
                await engine.dispose()
        await cluster.start()
        yield cluster
    finally:
        await cluster.stop()
        await drop_schema(user, schema)


def _ticket_row(*, sender_id: str, created: datetime, terms: SlaTerms) -> dict[str, Any]:
    """A ticket as the book opens it at ``created``: its sweeper check at the first milestone."""
    first_due = terms.first_response_due(created)
    return {
        "reference": new_reference(),
        "kind": RequestKind.ACCESS,
        "status": TicketStatus.OPEN,
        "priority": Priority.NORMAL,
        "channel": ChannelName.WEB,
        "requester_sender_id": sender_id,
        "requester_address": f"{uuid.uuid4().hex[:10]}@example.com",
        "identity_status": IdentityStatus.VERIFIED,
        "identity_method": IdentityMethod.EMAIL_CODE,
        "language": "en",
        "created_at": created,
        "updated_at": created,
        "first_response_due": first_due,
        "due_at": terms.resolution_due(created),
        "extension_months": 0,
        "sla_check_at": next_check_at(first_due, terms.reminder_hours, created),
    }


async def seed_web_ticket(
    sessionmaker: async_sessionmaker[AsyncSession], session_id: str, *, conversation_id: str | None = None
) -> str:
    """An open web ticket of ``session_id`` (opened in ``conversation_id``, if given), just created; its
    reference."""
    now = datetime.now(UTC)
    row = _ticket_row(sender_id=session_id, created=now, terms=SlaTerms())
    row["conversation_id"] = conversation_id
    async with sessionmaker() as session, session.begin():
        await session.execute(insert(Ticket), [row])
    return str(row["reference"])


async def seed_due_tickets(sessionmaker: async_sessionmaker[AsyncSession], count: int) -> list[str]:
    """``count`` open tickets, each with exactly one reminder due now (the 24 h one: created 25 h ago,
    first response due in 23 h); their references."""
    now = datetime.now(UTC)
    rng = random.Random(15)
    terms = SlaTerms()
    rows = [
        _ticket_row(
            sender_id=uuid.uuid4().hex,
            created=now - timedelta(hours=25, seconds=rng.uniform(0, 600)),
            terms=terms,
        )
        for _ in range(count)
    ]
    async with sessionmaker() as session, session.begin():
        await session.execute(insert(Ticket), rows)
    return [str(row["reference"]) for row in rows]


async def officer_token(sessionmaker: async_sessionmaker[AsyncSession]) -> str:
    """Sign up an officer and issue an API token for them."""
    accounts = OfficerAccounts(sessionmaker, clock=SystemClock())
    await accounts.add(OFFICER, secrets.token_urlsafe(18), name="Cluster Officer")
    return await accounts.issue_token(OFFICER)


async def signed_in_officer(sessionmaker: async_sessionmaker[AsyncSession]) -> tuple[str, str]:
    """Sign up another officer; their API token and the id of a dashboard session signed in as them."""
    accounts = OfficerAccounts(sessionmaker, clock=SystemClock())
    email, password = f"officer.{uuid.uuid4().hex[:8]}@zynorlink.example", secrets.token_urlsafe(18)
    await accounts.add(email, password, name="Live Officer")
    signed_in = await accounts.sign_in(email, password)
    assert signed_in is not None
    return await accounts.issue_token(email), signed_in.session_id


def reminder_subjects(sink: MailSink) -> Counter[str]:
    """How many times each SLA reminder subject (one per ticket) was mailed."""
    return Counter(m.subject for m in list(sink.messages) if "[SLA reminder]" in m.subject)


async def wait_for_reminders(sink: MailSink, count: int, timeout: float) -> Counter[str]:  # noqa: ASYNC109
    """Poll ``sink`` twice a second until ``count`` distinct reminders arrived (or ``timeout`` passed)."""
    subjects = reminder_subjects(sink)
    for _ in range(int(timeout * 2)):
        if len(subjects) >= count:
            break
        await asyncio.sleep(0.5)
        subjects = reminder_subjects(sink)
    return subjects
