"""Fixtures for the officer workspace: the real conversation over the real SQL store (SQLite and
PostgreSQL), a recording channel per channel name, the delivery outbox and the ticket service."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import Core
from bot.conversation.engine import Conversation, TurnResult
from bot.deliveries import Deliveries
from bot.domain.channels import ChannelName
from bot.domain.errors import DeliveryFailed
from bot.messages import InboundMessage, OutboundMessage
from bot.officer.outbox import DeliveryOutbox
from bot.sla.deadlines import SlaTerms
from bot.tickets.desk import sql_turn_store_factory
from bot.tickets.service import TicketService
from tests.support.database import FrozenClock
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


@dataclass
class Workspace:
    """The pieces a test drives: the conversation (as a channel would), the desk, the outbox, channels."""

    conversation: Conversation
    desk: TicketService
    outbox: DeliveryOutbox
    channels: dict[ChannelName, RecordingChannel]
    sessionmaker: async_sessionmaker[AsyncSession]
    clock: FrozenClock
    mail: RecordingMailSender

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
) -> Workspace:
    """A workspace over ``sessionmaker``; ``deliveries`` defaults to recording channels for every name."""
    channels = {name: RecordingChannel(name) for name in ChannelName}
    if deliveries is None:
        deliveries = Deliveries(channels)
    mail = RecordingMailSender()
    settings = make_settings()
    stores = sql_turn_store_factory(sessionmaker, clock, mail, settings, core.responses)
    outbox = DeliveryOutbox(sessionmaker, deliveries=deliveries, clock=clock)
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
