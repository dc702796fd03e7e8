"""The SLA sweeper against real databases: reminders at 24 h and 4 h, the breach, exactly once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.tickets import (
    IdentityMethod,
    IdentityStatus,
    Priority,
    RequestKind,
    TicketStatus,
    TicketSummary,
)
from bot.mail.smtp import SmtpMailSender
from bot.sla.deadlines import SlaEventKind
from bot.sla.notifier import MailOfficerNotifier, NotificationFailed, SlaEvent
from bot.sla.sweeper import SlaSweeper
from bot.store.db import create_engine, create_sessionmaker
from bot.store.models import SlaNotification, TicketEvent, TicketEventKind
from responses import Responses
from tests.support.database import FrozenClock
from tests.support.mail_servers import SmtpServer
from tests.tickets.helpers import TERMS, desk_session, new_conversation, ticket_service


class RecordingNotifier:
    """An OfficerNotifier that keeps every event (and fails while ``failing`` is set)."""

    def __init__(self) -> None:
        """Start empty and working."""
        self.events: list[SlaEvent] = []
        self.failing = False

    async def notify(self, event: SlaEvent) -> None:
        """Keep ``event`` or fail."""
        await asyncio.sleep(0)
        if self.failing:
            raise NotificationFailed("officer mailbox unreachable")
        self.events.append(event)

    @property
    def keys(self) -> list[tuple[str, str]]:
        """(reference, kind) of every event, in order."""
        return [(e.reference, e.key) for e in self.events]


def sweeper(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock, notifier: RecordingNotifier
) -> SlaSweeper:
    """A sweeper on ``sessionmaker``."""
    return SlaSweeper(sessionmaker, notifier=notifier, clock=clock, terms=TERMS, interval_seconds=0.01)


async def open_ticket(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock, sender: str = "web-1"
) -> TicketSummary:
    """Open a verified access request for ``sender``."""
    person = await new_conversation(sessionmaker, clock, sender)
    async with desk_session(sessionmaker, clock) as (desk, _):
        return await desk.open_request(
            person,
            RequestKind.ACCESS,
            address=f"{sender}@example.com",
            identity=IdentityStatus.VERIFIED,
            method=IdentityMethod.EMAIL_CODE,
        )


async def test_reminders_at_24h_and_4h_then_breach(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """Nothing before 24 h are left; then the 24 h reminder, the 4 h reminder and the escalation, once."""
    ticket = await open_ticket(sessionmaker, clock)
    notifier = RecordingNotifier()
    sla = sweeper(sessionmaker, clock, notifier)
    due = ticket.first_response_due
    clock.set(due - timedelta(hours=24, seconds=1))
    await sla.sweep_once()
    assert notifier.keys == []
    clock.set(due - timedelta(hours=24))
    await sla.sweep_once()
    await sla.sweep_once()
    assert notifier.keys == [(ticket.reference, "reminder_24h")]
    clock.set(due - timedelta(hours=4))
    await sla.sweep_once()
    clock.set(due - timedelta(hours=1))
    await sla.sweep_once()
    assert notifier.keys[-1] == (ticket.reference, "reminder_4h")
    assert notifier.events[-1].hours_before == 4
    clock.set(due)
    report = await sla.sweep_once()
    assert report.sent == 1
    assert notifier.keys == [
        (ticket.reference, "reminder_24h"),
        (ticket.reference, "reminder_4h"),
        (ticket.reference, "breach"),
    ]
    assert notifier.events[-1].kind is SlaEventKind.BREACH
    clock.advance(days=3)
    await sla.sweep_once()
    assert len(notifier.events) == 3
    async with sessionmaker() as session:
        audited = (
            await session.scalars(
                select(TicketEvent.event).where(
                    TicketEvent.event.in_([TicketEventKind.SLA_REMINDER, TicketEventKind.SLA_BREACH])
                )
            )
        ).all()
    assert sorted(audited) == sorted(
        [TicketEventKind.SLA_REMINDER, TicketEventKind.SLA_REMINDER, TicketEventKind.SLA_BREACH]
    )


async def test_first_response_stops_reminders(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """After the officer's first reply no reminder or escalation is sent for the ticket."""
    ticket = await open_ticket(sessionmaker, clock)
    notifier = RecordingNotifier()
    clock.set(ticket.first_response_due - timedelta(hours=24))
    await sweeper(sessionmaker, clock, notifier).sweep_once()
    await ticket_service(sessionmaker, clock).record_officer_reply(ticket.reference, "officer:kim")
    clock.set(ticket.first_response_due + timedelta(hours=1))
    await sweeper(sessionmaker, clock, notifier).sweep_once()
    assert notifier.keys == [(ticket.reference, "reminder_24h")]


async def test_closed_ticket_gets_no_reminder(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """A rejected ticket is out of the SLA sweep."""
    ticket = await open_ticket(sessionmaker, clock)
    await ticket_service(sessionmaker, clock).record_status(
        ticket.reference, TicketStatus.REJECTED, "officer:kim"
    )
    notifier = RecordingNotifier()
    clock.set(ticket.first_response_due + timedelta(hours=1))
    await sweeper(sessionmaker, clock, notifier).sweep_once()
    assert notifier.events == []


async def test_sweeper_that_was_down_sends_only_the_latest_milestone(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """Coming back 2 h before the deadline, the sweeper sends the 4 h reminder, not a stale 24 h one too."""
    ticket = await open_ticket(sessionmaker, clock)
    notifier = RecordingNotifier()
    clock.set(ticket.first_response_due - timedelta(hours=2))
    await sweeper(sessionmaker, clock, notifier).sweep_once()
    assert notifier.keys == [(ticket.reference, "reminder_4h")]


async def test_restart_does_not_repeat(
    database_url: str, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """A new sweeper on a new engine (a restart) finds the reminder already sent and sends nothing."""
    ticket = await open_ticket(sessionmaker, clock)
    first = RecordingNotifier()
    clock.set(ticket.first_response_due - timedelta(hours=23))
    await sweeper(sessionmaker, clock, first).sweep_once()
    engine = create_engine(database_url)
    try:
        second = RecordingNotifier()
        restarted = sweeper(create_sessionmaker(engine), clock, second)
        await restarted.sweep_once()
        clock.advance(minutes=30)
        await restarted.sweep_once()
    finally:
        await engine.dispose()
    assert first.keys == [(ticket.reference, "reminder_24h")]
    assert second.keys == []


async def test_failed_send_is_retried_later_once(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """A reminder whose send failed stays claimed and goes out on a later sweep, exactly once."""
    ticket = await open_ticket(sessionmaker, clock)
    notifier = RecordingNotifier()
    notifier.failing = True
    sla = sweeper(sessionmaker, clock, notifier)
    clock.set(ticket.first_response_due - timedelta(hours=24))
    report = await sla.sweep_once()
    assert (report.claimed, report.sent, report.failed) == (1, 0, 1)
    notifier.failing = False
    await sla.sweep_once()
    assert notifier.keys == []  # still inside the retry delay
    clock.advance(minutes=2)
    await sla.sweep_once()
    await sla.sweep_once()
    assert notifier.keys == [(ticket.reference, "reminder_24h")]


async def test_two_sweepers_send_each_reminder_exactly_once(
    database_url: str, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """Two sweepers on two engines sweeping concurrently notify each milestone of each ticket once."""
    tickets = [await open_ticket(sessionmaker, clock, f"web-{n}") for n in range(30)]
    engines = [create_engine(database_url), create_engine(database_url)]
    notifiers = [RecordingNotifier(), RecordingNotifier()]
    try:
        sweepers = [
            SlaSweeper(create_sessionmaker(engine), notifier=notifier, clock=clock, terms=TERMS, batch_size=7)
            for engine, notifier in zip(engines, notifiers, strict=True)
        ]
        for offset in (timedelta(hours=24), timedelta(hours=4), timedelta(0)):
            clock.set(tickets[0].first_response_due - offset)
            for _ in range(3):
                await asyncio.gather(*(s.sweep_once() for s in sweepers))
    finally:
        for engine in engines:
            await engine.dispose()
    sent = notifiers[0].keys + notifiers[1].keys
    assert len(sent) == len(set(sent)) == 30 * 3
    async with sessionmaker() as session:
        rows = await session.scalar(
            select(func.count()).select_from(SlaNotification).where(SlaNotification.sent_at.is_not(None))
        )
    assert rows == 90


async def test_run_loop_stops_on_the_event(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """``run(stop_event)`` sweeps repeatedly and returns promptly once the event is set."""
    ticket = await open_ticket(sessionmaker, clock)
    notifier = RecordingNotifier()
    clock.set(ticket.first_response_due)
    stop = asyncio.Event()
    task = asyncio.create_task(sweeper(sessionmaker, clock, notifier).run(stop))
    for _ in range(200):
        if notifier.events:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, timeout=2)
    assert notifier.keys == [(ticket.reference, "breach")]


async def test_officer_is_mailed(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock, smtp_server: SmtpServer
) -> None:
    """The shipped notifier mails the officer the reference and deadline, never the requester's address."""
    person = await new_conversation(sessionmaker, clock)
    async with desk_session(sessionmaker, clock) as (desk, _):
        ticket = await desk.open_request(
            person,
            RequestKind.SECURITY_INCIDENT,
            address=None,
            identity=IdentityStatus.UNVERIFIED,
            method=IdentityMethod.NONE,
            priority=Priority.URGENT,
        )
    mail = SmtpMailSender(host=smtp_server.host, port=smtp_server.port)
    notifier = MailOfficerNotifier(
        mail,
        Responses(),
        officer_email="privacy@zynorlink.example",
        mail_from="privacy-assistant@zynorlink.example",
    )
    clock.set(ticket.first_response_due + timedelta(minutes=5))
    await SlaSweeper(sessionmaker, notifier=notifier, clock=clock, terms=TERMS).sweep_once()
    received = (await smtp_server.sink.wait_for(1))[0]
    assert received.rcpt_tos == ("privacy@zynorlink.example",)
    assert ticket.reference in received.subject and "breach" in received.subject
    assert "ESCALATION" in received.text and "security_incident" in received.text
    assert received.message["Importance"] == "high"
