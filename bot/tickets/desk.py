"""The actions' seam to tickets: the RequestDesk of one turn (the ticket service over the turn's session), and
the turn-store factory that builds both per turn: the turn store commits the desk's work with the turn.

On PostgreSQL the turn store opens the desk's session (and its transaction) only when the desk is first
used, so a question turn that never touches a ticket stays two statements (``bot.store.pg_turns``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.domain.clock import Clock
from bot.domain.policy_versions import ArchiveMailResult, PolicyVersion
from bot.domain.tickets import (
    CodeCheck,
    CodeSent,
    IdentityMethod,
    IdentityStatus,
    OfficerPresence,
    Priority,
    Requester,
    RequestKind,
    TicketSummary,
)
from bot.identity.codes import CodePolicy
from bot.identity.verification import IdentityVerifier
from bot.policy_versions.archive import PolicyArchiveDesk
from bot.settings import Settings
from bot.sla.deadlines import SlaTerms
from bot.store.db import begin_writing
from bot.store.outbox import AfterCommit
from bot.store.pg_turns import PgTurnStore
from bot.store.turns import OpenSession, SqlTurnStore
from bot.tickets.service import TicketService
from policy.versions import PolicyText, policy_text
from responses import Responses


class TurnDesk:
    """The ``bot.domain.tickets.RequestDesk`` of one turn: the ticket service and the identity verifier over
    the turn's session (the turn store commits their work with the turn)."""

    def __init__(
        self,
        session: OpenSession,
        *,
        tickets: TicketService,
        verifier: Callable[[AsyncSession], IdentityVerifier],
        archive: Callable[[AsyncSession], PolicyArchiveDesk],
    ) -> None:
        """Work in the turn's session, asked of ``session`` when first needed; ``verifier`` and ``archive``
        build the identity verifier and the policy archive over it."""
        self._open_session = session
        self._tickets = tickets
        self._make_verifier = verifier
        self._make_archive = archive
        self._verifier: IdentityVerifier | None = None

    async def _session(self) -> AsyncSession:
        return await self._open_session()

    async def _verifying(self) -> IdentityVerifier:
        if self._verifier is None:
            self._verifier = self._make_verifier(await self._session())
        return self._verifier

    async def send_code(self, requester: Requester, address: str, *, lang: str = "en") -> CodeSent:
        """Mail a fresh 6-digit code, in ``lang``, once the turn commits. Raises ResendTooSoon,
        CodeCoolingOff."""
        verifier = await self._verifying()
        return await verifier.send_code(conversation_id=requester.conversation_id, address=address, lang=lang)

    async def send_ticket_code(
        self, requester: Requester, reference: str, *, lang: str = "en"
    ) -> CodeSent | None:
        """Mail a code, in ``lang``, to the ticket's verified address once the turn commits. Raises
        ResendTooSoon, CodeCoolingOff."""
        address = await self._tickets.verified_address_of(await self._session(), reference)
        if address is None:
            return None
        return await self.send_code(requester, address, lang=lang)

    async def check_code(self, requester: Requester, code: str) -> CodeCheck:
        """Check the code against the last one sent in this conversation."""
        verifier = await self._verifying()
        return await verifier.check_code(conversation_id=requester.conversation_id, code=code)

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
        """Open a ticket, or return the open one of the same kind for the same verified person; a verified
        marketing opt-out of a known account is carried out at once and comes back resolved."""
        return await self._tickets.open_request(
            await self._session(),
            requester,
            kind,
            address=address,
            identity=identity,
            method=method,
            priority=priority,
        )

    async def attach_verification(
        self, requester: Requester, reference: str, *, address: str, method: IdentityMethod
    ) -> TicketSummary | None:
        """Record that the requester of ``reference`` proved their identity (None if not theirs)."""
        return await self._tickets.attach_verification(
            await self._session(), requester, reference, address=address, method=method
        )

    async def ticket_status(self, requester: Requester, reference: str) -> TicketSummary | None:
        """The ticket if ``requester`` owns it; an unknown and a foreign ticket look the same (None)."""
        return await self._tickets.ticket_status(await self._session(), requester, reference)

    async def tickets_of(self, requester: Requester) -> list[TicketSummary]:
        """The requester's tickets, newest first."""
        return await self._tickets.tickets_of(await self._session(), requester)

    async def relay_to_officer(self, requester: Requester, reference: str, text: str) -> None:
        """Keep the person's message on the ticket's audit trail for the officer. Raises TicketNotFound."""
        await self._tickets.relay_to_officer(await self._session(), requester, reference, text)

    async def officer_presence(self) -> OfficerPresence:
        """Whether an officer acted on any ticket lately, for the handoff's acknowledgement."""
        return await self._tickets.officer_presence(await self._session())

    async def policy_versions(self) -> list[PolicyVersion]:
        """Every archived version of the policy, the oldest in effect first."""
        return await self._make_archive(await self._session()).versions()

    async def mail_policy_version(
        self, requester: Requester, version_id: str, *, address: str, lang: str = "en"
    ) -> ArchiveMailResult:
        """Queue the mail of an archived version to ``address`` once the turn commits."""
        archive = self._make_archive(await self._session())
        return await archive.mail(
            conversation_id=requester.conversation_id, version_id=version_id, address=address, lang=lang
        )


def sql_turn_store_factory(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    settings: Settings,
    responses: Responses,
    *,
    code_policy: CodePolicy | None = None,
    after_commit: AfterCommit | None = None,
    current_policy: PolicyText | None = None,
) -> Callable[[], AbstractAsyncContextManager[SqlTurnStore | PgTurnStore]]:
    """Open one turn store per turn, on the database of ``sessionmaker`` (PostgreSQL: a PgTurnStore on an
    autocommitting connection; otherwise an SqlTurnStore in a writing transaction); leaving it without
    ``commit()`` rolls back. A turn that queued deliveries (Telegram or email replies, a code mail) calls
    ``after_commit`` once it committed: the running server rings the delivery outbox's bell there.
    ``current_policy`` is the text the assistant runs on (by default the settings' policy file), for the
    policy archive."""
    tickets = TicketService(
        sessionmaker, clock=clock, terms=SlaTerms.from_settings(settings), responses=responses
    )
    policy = code_policy or CodePolicy()

    def verifier(session: AsyncSession) -> IdentityVerifier:
        return IdentityVerifier(session, clock=clock, responses=responses, policy=policy)

    current = current_policy or policy_text(settings.policy.read_text(encoding="utf-8-sig"))

    def archive(session: AsyncSession) -> PolicyArchiveDesk:
        return PolicyArchiveDesk(session, policy=current, clock=clock, responses=responses)

    def desk(session: OpenSession) -> TurnDesk:
        return TurnDesk(session, tickets=tickets, verifier=verifier, archive=archive)

    bind = sessionmaker.kw.get("bind")
    if isinstance(bind, AsyncEngine) and bind.dialect.name == "postgresql":
        autocommit = bind.execution_options(isolation_level="AUTOCOMMIT")

        @asynccontextmanager
        async def open_pg_turn() -> AsyncIterator[PgTurnStore]:
            async with autocommit.connect() as connection:
                raw = await connection.get_raw_connection()
                store = PgTurnStore(
                    connection, raw.driver_connection, clock=clock, desk=desk, after_commit=after_commit
                )
                try:
                    yield store
                finally:
                    await store.close()

        return open_pg_turn

    @asynccontextmanager
    async def open_turn() -> AsyncIterator[SqlTurnStore]:
        async with sessionmaker() as session:
            await begin_writing(session)
            try:
                yield SqlTurnStore(session, clock=clock, desk=desk, after_commit=after_commit)
            finally:
                if session.in_transaction():
                    await session.rollback()

    return open_turn
