"""Fixtures for the officer workspace: the real conversation over the real SQL store (SQLite and
PostgreSQL), a recording channel per channel name (email: the real outgoing mail, into a recording mail
sender), the delivery outbox (drained after every turn, as the running server's bell does) and the ticket
service."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import Core
from bot.channels.email import build_email_channel
from bot.channels.email.outgoing import OutgoingMail
from bot.conversation.engine import Conversation, TurnResult
from bot.deliveries import Deliveries
from bot.domain.channels import ChannelName
from bot.domain.errors import DeliveryFailed
from bot.mail import MailSender
from bot.mail.smtp import SmtpMailSender
from bot.messages import AUTHOR_META, OFFICER_AUTHOR, InboundMessage, OutboundMessage
from bot.officer.fallback import EmailFallback
from bot.officer.outbox import DeliveryOutbox
from bot.sla.deadlines import SlaTerms
from bot.store.outbox import DeliveryQueue
from bot.tickets.desk import sql_turn_store_factory
from bot.tickets.service import TicketService
from tests.support.core import make_settings as make_core_settings
from tests.support.database import FrozenClock
from tests.support.mail_servers import SmtpServer
from tests.tickets.helpers import RecordingMailSender, make_settings


@dataclass
class RecordingChannel:
    """A stand-in for a running channel: keeps what it is asked to deliver, or refuses while ``down``."""

    name: ChannelName
    down: bool = False
    sent: list[OutboundMessage] = field(default_factory=list)

    async def start(self) -> None:
        """Nothing to start."""

    async def stop(self) -> None:
        """Nothing to stop."""

    async def deliver(self, message: OutboundMessage) -> None:
        """Keep ``message``, or raise DeliveryFailed while down."""
        if self.down:
            raise DeliveryFailed(self.name, "down")
        self.sent.append(message)

    @property
    def from_officer(self) -> list[OutboundMessage]:
        """What it delivered for the officer (replies, notices), leaving out the assistant's turn replies."""
        return [m for m in self.sent if m.meta.get(AUTHOR_META) == OFFICER_AUTHOR]


@dataclass
class Workspace:
    """The pieces a test drives: the conversation (as a channel would), the desk, the outbox, channels."""

    conversation: Conversation
    desk: TicketService
    outbox: DeliveryOutbox
    channels: dict[ChannelName, RecordingChannel]
    sessionmaker: async_sessionmaker[AsyncSession]
    clock: FrozenClock
    mail: RecordingMailSender  # what the email channel mailed (code mails, email replies), unless replaced

    async def say(
        self, text: str, *, sender: str = "web-1", channel: ChannelName = ChannelName.WEB, **extra: object
    ) -> TurnResult:
        """One message from a person, through the real conversation."""
        inbound = InboundMessage(
            channel=channel, sender_id=sender, text=text, received_at=self.clock.now(), **extra
        )  # type: ignore[arg-type]
        return await self.conversation.handle(inbound)


def build_workspace(
    core: Core,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FrozenClock,
    deliveries: Deliveries | None = None,
    *,
    self_storing: frozenset[ChannelName] = frozenset(),
    fallback_mail: MailSender | None = None,
    fallback_window: timedelta = timedelta(0),
) -> Workspace:
    """A workspace over ``sessionmaker``; ``deliveries`` defaults to recording channels for every name but
    email, which (unless ``deliveries`` has it) mails into ``Workspace.mail``. With ``fallback_mail``,
    messages that do not reach the person are mailed through it after 2 minutes (those of a ticket queued
    less than ``fallback_window`` apart in one mail)."""
    channels = {name: RecordingChannel(name) for name in ChannelName if name is not ChannelName.EMAIL}
    if deliveries is None:
        deliveries = Deliveries(channels)
    mail = RecordingMailSender()
    settings = make_settings()
    if not any(channel.name is ChannelName.EMAIL for channel in deliveries.channels):
        deliveries.register(OutgoingMail(mail, mail_from=settings.mail_from, responses=core.responses))
    fallback = None
    if fallback_mail is not None:
        fallback = EmailFallback(
            sessionmaker,
            mail=fallback_mail,
            responses=core.responses,
            mail_from=settings.mail_from,
            clock=clock,
            delay=timedelta(minutes=settings.offline_delivery_minutes),
            batch_window=fallback_window,
        )
    outbox = DeliveryOutbox(sessionmaker, deliveries=deliveries, clock=clock, fallback=fallback)
    stores = sql_turn_store_factory(sessionmaker, clock, settings, core.responses, after_commit=outbox.flush)
    desk = TicketService(
        sessionmaker,
        clock=clock,
        terms=SlaTerms.from_settings(settings),
        responses=core.responses,
        outbox=outbox,
        self_storing_channels=self_storing,
    )
    return Workspace(core.conversation(stores), desk, outbox, channels, sessionmaker, clock, mail)


@pytest.fixture
def workspace(core: Core, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock) -> Workspace:
    """The officer workspace over the migrated test database, with recording channels."""
    return build_workspace(core, sessionmaker, clock)


def email_workspace(
    tmp_path: Path,
    core: Core,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FrozenClock,
    smtp_server: SmtpServer,
) -> Workspace:
    """A workspace whose email channel sends through the test SMTP server (the mailbox is not read)."""
    settings = make_core_settings(
        tmp_path,
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        imap_host="127.0.0.1",
        imap_user="privacy",
        imap_password="unused-here",
    )
    deliveries = Deliveries()
    workspace = build_workspace(core, sessionmaker, clock, deliveries)
    queue = DeliveryQueue(sessionmaker, clock=clock)
    sender = SmtpMailSender.from_settings(settings)
    deliveries.register(build_email_channel(settings, workspace.conversation.handle, sender, queue=queue))
    return workspace
