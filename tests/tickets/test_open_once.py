"""One open ticket per requester and kind: a database constraint, so that racing identical requests
cannot open two."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.domain.tickets import IdentityMethod, IdentityStatus, RequestKind, TicketStatus
from bot.store.models import Ticket
from tests.support.database import FrozenClock
from tests.tickets.helpers import desk_session, new_conversation

ADDRESS = "anna@example.com"


async def open_erasure(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock, sender: str
) -> tuple[str, bool]:
    """Open a verified erasure for ADDRESS from ``sender``: (reference, already open)."""
    person = await new_conversation(sessionmaker, clock, sender)
    async with desk_session(sessionmaker, clock) as (desk, _):
        ticket = await desk.open_request(
            person,
            RequestKind.ERASURE,
            address=ADDRESS,
            identity=IdentityStatus.VERIFIED,
            method=IdentityMethod.EMAIL_CODE,
        )
    return ticket.reference, ticket.already_open


async def test_database_refused_no_second_open_ticket(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """Regression: nothing in the schema stopped a second open ticket of one kind for one requester. A
    second row with the same requester key is refused while the first is open, accepted once it closed."""
    await open_erasure(sessionmaker, clock, "web-1")
    async with sessionmaker() as session:
        first = (await session.scalars(select(Ticket))).one()
    twin = {c.name: getattr(first, c.key) for c in Ticket.__table__.columns if c.name != "id"}
    with pytest.raises(IntegrityError):
        async with sessionmaker() as session, session.begin():
            session.add(Ticket(**{**twin, "reference": "PRV-2222-3333"}))
    async with sessionmaker() as session, session.begin():
        closed = await session.get(Ticket, first.id)
        assert closed is not None
        closed.status = TicketStatus.RESOLVED
    async with sessionmaker() as session, session.begin():
        session.add(Ticket(**{**twin, "reference": "PRV-2222-3333"}))


@pytest.mark.postgres
async def test_two_identical_requests_at_once_opened_two_tickets(
    database_url: str, engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """Regression: two identical requests at the same instant (web and email, say) both found no open
    ticket and both opened one. The constraint makes the loser return the winner's ticket."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite serialises writers: the race needs PostgreSQL")
    results = await asyncio.gather(*(open_erasure(sessionmaker, clock, f"web-{n}") for n in range(6)))
    assert len({reference for reference, _ in results}) == 1
    assert sorted(already for _, already in results) == [False] + [True] * 5
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Ticket)) == 1
