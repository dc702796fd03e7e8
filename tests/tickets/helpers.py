"""Helpers shared by the ticket, identity and SLA tests: recording seams and a desk per session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from email.message import EmailMessage

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.channels import ChannelName
from bot.domain.clock import Clock
from bot.domain.tickets import Requester
from bot.identity.verification import IdentityVerifier
from bot.mail import MailDeliveryError, MailSender
from bot.policy_versions.archive import PolicyArchiveDesk
from bot.settings import DEFAULT_POLICY, Settings
from bot.sla.deadlines import SlaTerms
from bot.store.conversations import ConversationRepository
from bot.store.turns import given_session
from bot.tickets.desk import TurnDesk
from bot.tickets.service import TicketService
from policy.versions import policy_text
from responses import Responses
from tests.support.outbox import mail_outbox

TERMS = SlaTerms(first_response_hours=48, resolution_days=30, reminder_hours=(24, 4))


class RecordingMailSender:
    """A MailSender that keeps what it was given (or fails, when told to)."""

    def __init__(self, *, fail: bool = False) -> None:
        """Start empty."""
        self.sent: list[EmailMessage] = []
        self.fail = fail

    async def send(self, message: EmailMessage) -> None:
        """Keep ``message``, or raise MailDeliveryError."""
        if self.fail:
            raise MailDeliveryError("refused")
        self.sent.append(message)


def make_settings(**overrides: object) -> Settings:
    """Settings for tests (no environment secrets needed)."""
    return Settings(testing=True, **overrides)  # type: ignore[arg-type]


def requester(
    conversation_id: str, sender_id: str = "web-1", channel: ChannelName = ChannelName.WEB
) -> Requester:
    """A requester on ``channel``."""
    return Requester(channel=channel, sender_id=sender_id, conversation_id=conversation_id)


def ticket_service(sessionmaker: async_sessionmaker[AsyncSession], clock: Clock) -> TicketService:
    """The ticket service over ``sessionmaker`` with the test terms (no outbox: messages stay queued)."""
    return TicketService(sessionmaker, clock=clock, terms=TERMS, responses=Responses())


@asynccontextmanager
async def desk_session(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    mail: MailSender | None = None,
) -> AsyncIterator[tuple[TurnDesk, AsyncSession]]:
    """A desk on a fresh session, committed when the block ends without error; the code mails it queued
    then go out through ``mail`` (the delivery outbox, as after a turn)."""
    async with sessionmaker() as session:
        verifier = IdentityVerifier(session, clock=clock, responses=Responses())
        archive = PolicyArchiveDesk(
            session,
            policy=policy_text(DEFAULT_POLICY.read_text(encoding="utf-8")),
            clock=clock,
            responses=Responses(),
        )
        desk = TurnDesk(
            given_session(session),
            tickets=ticket_service(sessionmaker, clock),
            verifier=lambda _: verifier,
            archive=lambda _: archive,
        )
        yield desk, session
        await session.commit()
    await mail_outbox(sessionmaker, clock, mail or RecordingMailSender()).flush()


async def new_conversation(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    sender_id: str = "web-1",
    channel: ChannelName = ChannelName.WEB,
) -> Requester:
    """Store a conversation for ``sender_id`` and return its requester."""
    async with sessionmaker() as session, session.begin():
        row = await ConversationRepository(session).get_or_create(
            channel=channel, sender_id=sender_id, now=clock.now()
        )
    return requester(row.id, sender_id, channel)
