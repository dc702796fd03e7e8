"""The RequestDesk actions use, over the turn's session, and the turn-store factory that builds both per turn:
the turn store commits the desk's work with the turn."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.clock import Clock
from bot.domain.errors import TicketNotFound
from bot.domain.tickets import (
    CodeCheck,
    CodeSent,
    IdentityMethod,
    IdentityStatus,
    Priority,
    Requester,
    RequestKind,
    TicketSummary,
)
from bot.identity.codes import CodePolicy
from bot.identity.verification import IdentityVerifier
from bot.mail import MailSender
from bot.settings import Settings
from bot.sla.deadlines import SlaTerms
from bot.store.conversations import ConversationRepository
from bot.store.db import begin_writing
from bot.store.models import Ticket, TicketEventKind
from bot.store.turns import SqlTurnStore
from bot.tickets.book import REQUESTER, TicketBook
from bot.tickets.references import parse_reference
from bot.tickets.views import view_of
from responses import Responses

log = logging.getLogger(__name__)


def summary_of(ticket: Ticket, *, already_open: bool = False) -> TicketSummary:
    """The requester's view of an ORM ticket."""
    return view_of(ticket).summary(already_open=already_open)


class SqlRequestDesk:
    """Tickets and verification for one turn (implements ``bot.domain.tickets.RequestDesk``)."""

    def __init__(self, session: AsyncSession, *, book: TicketBook, verifier: IdentityVerifier) -> None:
        """Bind to the turn's session."""
        self._session = session
        self._book = book
        self._verifier = verifier

    async def send_code(self, requester: Requester, address: str, *, lang: str = "en") -> CodeSent:
        """Mail a fresh 6-digit code, in ``lang``. Raises ResendTooSoon, CodeDeliveryFailed."""
        return await self._verifier.send_code(
            conversation_id=requester.conversation_id, address=address, lang=lang
        )

    async def check_code(self, requester: Requester, code: str) -> CodeCheck:
        """Check the code against the last one sent in this conversation."""
        return await self._verifier.check_code(conversation_id=requester.conversation_id, code=code)

    async def open_request(
        self,
        requester: Requester,
        kind: RequestKind,
        *,
        address: str | None,
        identity: IdentityStatus,
        method: IdentityMethod,
        priority: Priority = Priority.NORMAL,
    ) -> TicketSummary:
        """Open a ticket, or return the open one of the same kind for the same verified person."""
        ticket, already_open = await self._book.open(
            requester, kind, address=address, identity=identity, method=method, priority=priority
        )
        return summary_of(ticket, already_open=already_open)

    async def attach_verification(
        self, requester: Requester, reference: str, *, address: str, method: IdentityMethod
    ) -> TicketSummary | None:
        """Record that the requester of ``reference`` proved their identity (None if not theirs)."""
        ticket = await self._owned(requester, reference)
        if ticket is None:
            return None
        await self._book.attach_verification(ticket, address=address, method=method)
        return summary_of(ticket)

    async def ticket_status(self, requester: Requester, reference: str) -> TicketSummary | None:
        """The ticket if ``requester`` owns it; an unknown and a foreign ticket look the same (None)."""
        ticket = await self._owned(requester, reference)
        return summary_of(ticket) if ticket is not None else None

    async def tickets_of(self, requester: Requester) -> list[TicketSummary]:
        """The requester's tickets, newest first."""
        tickets = await self._book.tickets.owned_by(
            conversation_id=requester.conversation_id,
            channel=requester.channel,
            sender_id=requester.sender_id,
            addresses=await self._addresses(requester),
        )
        return [summary_of(ticket) for ticket in tickets]

    async def relay_to_officer(self, requester: Requester, reference: str, text: str) -> None:
        """Keep the person's message on the ticket's audit trail for the officer. Raises TicketNotFound."""
        ticket = await self._owned(requester, reference)
        if ticket is None:
            raise TicketNotFound(reference)
        self._book.tickets.append_event(
            ticket=ticket,
            at=self._book.clock.now(),
            actor=REQUESTER,
            event=TicketEventKind.REQUESTER_MESSAGE,
            detail={"text": text},
        )
        log.info("requester message relayed on ticket %s", ticket.reference)

    async def _owned(self, requester: Requester, reference: str) -> Ticket | None:
        canonical = parse_reference(reference)
        if canonical is None:
            return None
        found = await self._book.tickets.owned_by(
            conversation_id=requester.conversation_id,
            channel=requester.channel,
            sender_id=requester.sender_id,
            addresses=await self._addresses(requester),
            reference=canonical,
        )
        return found[0] if found else None

    async def _addresses(self, requester: Requester) -> set[str]:
        """Addresses this conversation proved: by a code, on its own tickets, or kept in its state."""
        addresses = await self._verifier.verified_addresses(conversation_id=requester.conversation_id)
        addresses |= await self._book.tickets.verified_addresses(conversation_id=requester.conversation_id)
        conversations = ConversationRepository(self._session)
        conversation = await conversations.get(conversation_id=requester.conversation_id)
        if conversation is not None:
            remembered = (conversation.state or {}).get("verified_address")
            if isinstance(remembered, str) and remembered:
                addresses.add(remembered.strip().lower())
        return addresses


def sql_turn_store_factory(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    mail_sender: MailSender,
    settings: Settings,
    responses: Responses,
    *,
    code_policy: CodePolicy | None = None,
) -> Callable[[], AbstractAsyncContextManager[SqlTurnStore]]:
    """Open one SqlTurnStore per turn; leaving it without ``commit()`` rolls back."""
    terms = SlaTerms.from_settings(settings)
    policy = code_policy or CodePolicy()

    @asynccontextmanager
    async def open_turn() -> AsyncIterator[SqlTurnStore]:
        async with sessionmaker() as session:
            await begin_writing(session)
            verifier = IdentityVerifier(
                session,
                clock=clock,
                mail_sender=mail_sender,
                responses=responses,
                mail_from=settings.mail_from,
                policy=policy,
            )
            book = TicketBook(session, clock=clock, terms=terms)
            desk = SqlRequestDesk(session, book=book, verifier=verifier)
            try:
                yield SqlTurnStore(session, clock=clock, desk=desk)
            finally:
                if session.in_transaction():
                    await session.rollback()

    def factory() -> AbstractAsyncContextManager[SqlTurnStore]:
        return open_turn()

    return factory
