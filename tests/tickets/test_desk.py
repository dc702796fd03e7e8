"""The SQL RequestDesk: opening tickets with their SLA, de-duplication, verification, owner-only status."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.channels import ChannelName
from bot.domain.tickets import IdentityMethod, IdentityStatus, Priority, RequestKind, TicketStatus
from bot.identity.directory import import_directory
from bot.store.models import TicketEvent, TicketEventKind
from bot.tickets.references import parse_reference
from tests.support.database import FrozenClock
from tests.tickets.helpers import desk_session, new_conversation

VERIFIED: dict[str, Any] = {"identity": IdentityStatus.VERIFIED, "method": IdentityMethod.EMAIL_CODE}


async def test_open_request_sets_the_sla_from_the_clock(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """A verified request opens as new, first response due in 48 hours, resolution in 30 days."""
    person = await new_conversation(sessionmaker, clock)
    async with desk_session(sessionmaker, clock) as (desk, _):
        ticket = await desk.open_request(person, RequestKind.ERASURE, address="Anna@Example.com", **VERIFIED)
    assert parse_reference(ticket.reference) == ticket.reference
    assert ticket.status is TicketStatus.NEW
    assert ticket.identity_status is IdentityStatus.VERIFIED
    assert ticket.created_at == clock.now()
    assert ticket.first_response_due == clock.now() + timedelta(hours=48)
    assert ticket.due_at == clock.now() + timedelta(days=30)
    assert ticket.account_known is False
    assert ticket.already_open is False


async def test_known_account_is_marked(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """An address in the accounts directory marks the ticket account_known; only the email was asked."""
    await import_directory(sessionmaker, "email,name,account_id\nanna@example.com,Anna,A-1\n", clock=clock)
    person = await new_conversation(sessionmaker, clock)
    async with desk_session(sessionmaker, clock) as (desk, _):
        ticket = await desk.open_request(person, RequestKind.ACCESS, address="anna@example.com", **VERIFIED)
    assert ticket.account_known is True


async def test_same_person_same_kind_gets_the_open_ticket(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """Asking again for the same kind, even from another channel, returns the open ticket (already_open)."""
    web = await new_conversation(sessionmaker, clock)
    telegram = await new_conversation(sessionmaker, clock, "tg-9", ChannelName.TELEGRAM)
    async with desk_session(sessionmaker, clock) as (desk, _):
        first = await desk.open_request(web, RequestKind.ERASURE, address="anna@example.com", **VERIFIED)
    clock.advance(hours=3)
    async with desk_session(sessionmaker, clock) as (desk, _):
        again = await desk.open_request(telegram, RequestKind.ERASURE, address="ANNA@example.com", **VERIFIED)
        other_kind = await desk.open_request(
            telegram, RequestKind.ACCESS, address="anna@example.com", **VERIFIED
        )
    assert again.reference == first.reference
    assert again.already_open is True
    assert again.created_at == first.created_at
    assert other_kind.reference != first.reference
    assert other_kind.already_open is False
    async with sessionmaker() as session:
        events = (await session.scalars(select(TicketEvent.event).order_by(TicketEvent.id))).all()
    assert TicketEventKind.DUPLICATE_REQUEST in events


async def test_closed_ticket_does_not_block_a_new_request(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """Once resolved, the same request opens a fresh ticket."""
    from tests.tickets.helpers import ticket_service

    person = await new_conversation(sessionmaker, clock)
    async with desk_session(sessionmaker, clock) as (desk, _):
        first = await desk.open_request(person, RequestKind.ERASURE, address="anna@example.com", **VERIFIED)
    await ticket_service(sessionmaker, clock).record_status(
        first.reference, TicketStatus.RESOLVED, by="officer:kim"
    )
    async with desk_session(sessionmaker, clock) as (desk, _):
        second = await desk.open_request(person, RequestKind.ERASURE, address="anna@example.com", **VERIFIED)
    assert second.reference != first.reference
    assert second.already_open is False


async def test_policy_archive_needs_no_verification(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """A request for an old policy version opens without identity, as new."""
    person = await new_conversation(sessionmaker, clock)
    async with desk_session(sessionmaker, clock) as (desk, _):
        ticket = await desk.open_request(
            person,
            RequestKind.POLICY_ARCHIVE,
            address=None,
            identity=IdentityStatus.NOT_REQUIRED,
            method=IdentityMethod.NONE,
        )
        again = await desk.open_request(
            person,
            RequestKind.POLICY_ARCHIVE,
            address=None,
            identity=IdentityStatus.NOT_REQUIRED,
            method=IdentityMethod.NONE,
        )
    assert ticket.status is TicketStatus.NEW
    assert ticket.identity_status is IdentityStatus.NOT_REQUIRED
    assert again.already_open and again.reference == ticket.reference


async def test_security_incident_opens_urgent_then_verification_attaches(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """A suspected compromise opens at once, urgent, awaiting verification; the verification follows."""
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
    assert ticket.priority is Priority.URGENT
    assert ticket.status is TicketStatus.AWAITING_VERIFICATION
    assert ticket.first_response_due == clock.now() + timedelta(hours=48)
    clock.advance(minutes=5)
    async with desk_session(sessionmaker, clock) as (desk, _):
        verified = await desk.attach_verification(
            person, ticket.reference, address="anna@example.com", method=IdentityMethod.EMAIL_CODE
        )
    assert verified is not None
    assert verified.identity_status is IdentityStatus.VERIFIED
    assert verified.status is TicketStatus.NEW
    assert verified.created_at == ticket.created_at


async def test_attach_verification_to_someone_elses_ticket_does_nothing(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """Another person cannot attach their verification to a ticket that is not theirs."""
    owner = await new_conversation(sessionmaker, clock)
    stranger = await new_conversation(sessionmaker, clock, "web-2")
    async with desk_session(sessionmaker, clock) as (desk, _):
        ticket = await desk.open_request(
            owner,
            RequestKind.SECURITY_INCIDENT,
            address=None,
            identity=IdentityStatus.UNVERIFIED,
            method=IdentityMethod.NONE,
            priority=Priority.URGENT,
        )
        assert (
            await desk.attach_verification(
                stranger, ticket.reference, address="eve@example.com", method=IdentityMethod.EMAIL_CODE
            )
            is None
        )


async def test_status_only_to_the_owner(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """The owner's conversation sees the ticket; a stranger gets the same answer as for an unknown one."""
    owner = await new_conversation(sessionmaker, clock)
    stranger = await new_conversation(sessionmaker, clock, "web-2")
    async with desk_session(sessionmaker, clock) as (desk, _):
        ticket = await desk.open_request(owner, RequestKind.ACCESS, address="anna@example.com", **VERIFIED)
    async with desk_session(sessionmaker, clock) as (desk, _):
        mine = await desk.ticket_status(owner, ticket.reference.lower())
        assert mine is not None and mine.reference == ticket.reference
        assert await desk.ticket_status(stranger, ticket.reference) is None
        assert await desk.ticket_status(stranger, "PRV-2222-2222") is None
        assert await desk.tickets_of(stranger) == []


async def test_status_to_the_same_verified_address_elsewhere(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """The owner writing from another channel sees the ticket once that conversation verified the address."""
    from tests.support.mail_servers import extract_code
    from tests.tickets.helpers import RecordingMailSender

    web = await new_conversation(sessionmaker, clock)
    telegram = await new_conversation(sessionmaker, clock, "tg-7", ChannelName.TELEGRAM)
    async with desk_session(sessionmaker, clock) as (desk, _):
        ticket = await desk.open_request(web, RequestKind.ACCESS, address="anna@example.com", **VERIFIED)
    mail = RecordingMailSender()
    async with desk_session(sessionmaker, clock, mail) as (desk, _):
        assert await desk.ticket_status(telegram, ticket.reference) is None
        await desk.send_code(telegram, "anna@example.com")
    async with desk_session(sessionmaker, clock) as (desk, _):
        await desk.check_code(telegram, extract_code(mail.sent[0]))
    async with desk_session(sessionmaker, clock) as (desk, _):
        seen = await desk.ticket_status(telegram, ticket.reference)
        listed = await desk.tickets_of(telegram)
    assert seen is not None and seen.reference == ticket.reference
    assert [t.reference for t in listed] == [ticket.reference]


async def test_status_to_the_same_sender_on_the_same_channel(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """Same channel and sender id count as the owner even if the conversation id differs."""
    from dataclasses import replace

    person = await new_conversation(sessionmaker, clock, "owner@example.com", ChannelName.EMAIL)
    async with desk_session(sessionmaker, clock) as (desk, _):
        ticket = await desk.open_request(person, RequestKind.ACCESS, address="owner@example.com", **VERIFIED)
    other_conversation = replace(person, conversation_id="not-the-same")
    async with desk_session(sessionmaker, clock) as (desk, _):
        assert await desk.ticket_status(other_conversation, ticket.reference) is not None


async def test_tickets_of_lists_newest_first(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """A person's tickets come newest first."""
    person = await new_conversation(sessionmaker, clock)
    async with desk_session(sessionmaker, clock) as (desk, _):
        older = await desk.open_request(person, RequestKind.ACCESS, address="anna@example.com", **VERIFIED)
    clock.advance(hours=1)
    async with desk_session(sessionmaker, clock) as (desk, _):
        newer = await desk.open_request(person, RequestKind.ERASURE, address="anna@example.com", **VERIFIED)
        listed = await desk.tickets_of(person)
    assert [t.reference for t in listed] == [newer.reference, older.reference]


async def test_relay_to_officer_lands_on_the_audit_trail(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    """During a handoff the person's message is kept on the ticket for the officer."""
    person = await new_conversation(sessionmaker, clock)
    async with desk_session(sessionmaker, clock) as (desk, _):
        ticket = await desk.open_request(
            person,
            RequestKind.HANDOFF,
            address=None,
            identity=IdentityStatus.NOT_REQUIRED,
            method=IdentityMethod.NONE,
        )
        await desk.relay_to_officer(person, ticket.reference, "are you there?")
    async with sessionmaker() as session:
        event = (
            await session.scalars(
                select(TicketEvent).where(TicketEvent.event == TicketEventKind.REQUESTER_MESSAGE)
            )
        ).one()
    assert event.detail == {"text": "are you there?"}
