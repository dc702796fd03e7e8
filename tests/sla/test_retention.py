"""The retention purge over the real database: the policy's period, read at run time, decides what goes."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli import main
from bot.domain.clock import SystemClock
from bot.domain.tickets import IdentityMethod, IdentityStatus, RequestKind, TicketStatus
from bot.messages import ChannelName
from bot.settings import DEFAULT_POLICY
from bot.sla.retention import RetentionPurge
from bot.sla.sweeper import SlaSweeper
from bot.store.conversations import ConversationRepository, NewMessage
from bot.store.db import create_engine, create_sessionmaker
from bot.store.migrate import upgrade_database
from bot.store.models import (
    Conversation,
    Message,
    MessageDirection,
    RetentionRun,
    Ticket,
    TicketEvent,
    VerificationCode,
)
from bot.store.officer_models import PendingDelivery
from tests.sla.test_sweeper import RecordingNotifier
from tests.support.database import FrozenClock
from tests.tickets.helpers import TERMS, desk_session, new_conversation, ticket_service

YEAR = timedelta(days=365)


def policy_with(tmp_path: Path, support_rule: str) -> Path:
    """A copy of the real policy whose "Support communications" bullet says ``support_rule``."""
    text = DEFAULT_POLICY.read_text(encoding="utf-8")
    old = "Support communications: Retained for 2 years"
    assert old in text
    path = tmp_path / "policy.txt"
    path.write_text(text.replace(old, f"Support communications: {support_rule}"), encoding="utf-8")
    return path


async def person_with_history(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock, sender: str, *, close: bool
) -> str:
    """A conversation with two messages, a code and an erasure ticket (closed when ``close``)."""
    person = await new_conversation(sessionmaker, clock, sender)
    async with sessionmaker() as session, session.begin():
        await ConversationRepository(session).insert_messages(
            conversation_id=person.conversation_id,
            messages=[
                NewMessage(MessageDirection.INBOUND, ChannelName.WEB, "delete me, I am Anna", clock.now()),
                NewMessage(MessageDirection.OUTBOUND, ChannelName.WEB, "What is your address?", clock.now()),
            ],
        )
    async with desk_session(sessionmaker, clock) as (desk, _):
        await desk.send_code(person, f"{sender}@example.com")
        summary = await desk.open_request(
            person,
            RequestKind.ERASURE,
            address=f"{sender}@example.com",
            identity=IdentityStatus.VERIFIED,
            method=IdentityMethod.EMAIL_CODE,
        )
    if close:
        await ticket_service(sessionmaker, clock).set_status(
            summary.reference, TicketStatus.RESOLVED, officer="officer@zynorlink.example"
        )
    return summary.reference


async def count(sessionmaker: async_sessionmaker[AsyncSession], model: type[object]) -> int:
    """Rows of ``model``'s table."""
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)  # type: ignore[arg-type]


async def test_nothing_was_deleted_past_the_promised_retention(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock, tmp_path: Path
) -> None:
    """Regression: the policy promises support communications are kept 2 years, and nothing deleted
    anything. Past 2 years transcripts, codes and the outbox's copies of what was sent go, and closed
    tickets lose the requester's details; a conversation with an open ticket keeps its transcript; the
    audit trail stays; the run is audited."""
    closed = await person_with_history(sessionmaker, clock, "web-old", close=True)
    old_messages = await count(sessionmaker, Message)  # with the closing notice, if the channel keeps one
    await person_with_history(sessionmaker, clock, "web-open", close=False)
    open_messages = await count(sessionmaker, Message) - old_messages
    events_before = await count(sessionmaker, TicketEvent)
    clock.advance(3 * YEAR)
    await person_with_history(sessionmaker, clock, "web-new", close=True)
    purge = RetentionPurge(
        sessionmaker, clock=clock, policy_path=policy_with(tmp_path, "Retained for 2 years")
    )
    planned = await purge.report()
    assert planned.days == 730
    total = await count(sessionmaker, Message)
    done = await purge.purge()
    assert done.counts == planned.counts
    assert done.counts.as_dict() == {
        "conversations": 1,
        "messages": old_messages,
        "codes": 2,
        "closed_tickets": 1,
        "deliveries": 3,  # the two code mails and the closing notice, as the delivery outbox keeps them
    }
    async with sessionmaker() as session:
        senders = set((await session.scalars(select(Conversation.sender_id))).all())
        old = (await session.scalars(select(Ticket).where(Ticket.reference == closed))).one()
        run = (await session.scalars(select(RetentionRun))).one()
    assert senders == {"web-open", "web-new"}
    assert old.requester_address is None and old.requester_sender_id == "removed"
    assert await count(sessionmaker, Message) == total - old_messages >= open_messages
    assert await count(sessionmaker, VerificationCode) == 1
    assert await count(sessionmaker, PendingDelivery) == 2  # the new person's code mail and notice
    assert await count(sessionmaker, TicketEvent) >= events_before
    assert run.removed == done.counts.as_dict() and run.periods["support communications"] == 730


async def test_a_changed_policy_changes_the_purge(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock, tmp_path: Path
) -> None:
    """The period is read from the policy at every run: at 5 years a 3-year-old transcript stays; once the
    file says 1 year, the next run removes it. A policy without a fixed period purges nothing."""
    await person_with_history(sessionmaker, clock, "web-old", close=True)
    old_messages = await count(sessionmaker, Message)
    clock.advance(3 * YEAR)
    path = policy_with(tmp_path, "Retained for 5 years")
    purge = RetentionPurge(sessionmaker, clock=clock, policy_path=path)
    assert (await purge.purge()).counts.messages == 0
    path.write_text(
        path.read_text(encoding="utf-8").replace("Retained for 5 years", "Kept for 1 year"), encoding="utf-8"
    )
    assert (await purge.purge()).counts.messages == old_messages >= 2
    assert await count(sessionmaker, RetentionRun) == 2


def test_retention_report_prints_what_would_go(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`privacybot retention report` names the period and the counts, and removes nothing."""
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"

    async def seed() -> None:
        engine = create_engine(url)
        await upgrade_database(engine)
        clock = FrozenClock(SystemClock().now() - 3 * YEAR)
        await person_with_history(create_sessionmaker(engine), clock, "web-old", close=True)
        await engine.dispose()

    asyncio.run(seed())
    monkeypatch.setenv("PRIVACYBOT_DATABASE_URL", url)
    monkeypatch.setenv("PRIVACYBOT_TESTING", "true")
    first = CliRunner().invoke(main, ["retention", "report"])
    assert first.exit_code == 0, first.output
    assert "support communications: kept 730 days" in first.output
    assert "conversations: 1" in first.output and "closed tickets: 1" in first.output
    assert CliRunner().invoke(main, ["retention", "report"]).output == first.output


async def test_the_sweeper_runs_the_purge_hourly(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock, tmp_path: Path
) -> None:
    """The purge is a job of the SLA sweeper: at its first sweep, then once an hour."""
    await person_with_history(sessionmaker, clock, "web-old", close=True)
    clock.advance(3 * YEAR)
    purge = RetentionPurge(
        sessionmaker, clock=clock, policy_path=policy_with(tmp_path, "Retained for 2 years")
    )
    sweeper = SlaSweeper(
        sessionmaker, notifier=RecordingNotifier(), clock=clock, terms=TERMS, retention=purge
    )
    assert await sweeper.purge_if_due()
    clock.advance(minutes=59)
    assert not await sweeper.purge_if_due()
    clock.advance(minutes=1)
    assert await sweeper.purge_if_due()
    assert await count(sessionmaker, RetentionRun) == 2 and await count(sessionmaker, Message) == 0
