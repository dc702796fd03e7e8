"""Identity verification end to end: codes mailed through a real SMTP server, checked against the database."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.errors import CodeCoolingOff, ResendTooSoon
from bot.domain.tickets import CodeCheck, CodeResult
from bot.identity.directory import import_directory
from bot.mail.smtp import SmtpMailSender
from bot.store.models import VerificationCode
from bot.store.officer_models import DeliveryRoute, PendingDelivery
from tests.support.database import FrozenClock
from tests.support.mail_servers import SmtpServer, extract_code, free_port
from tests.support.outbox import mail_outbox
from tests.tickets.helpers import desk_session, new_conversation

ADDRESS = "anna@example.com"


def smtp(server: SmtpServer) -> SmtpMailSender:
    """A sender authenticating against the test server."""
    return SmtpMailSender(host=server.host, port=server.port, user=server.user, password=server.password)


async def send(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FrozenClock,
    server: SmtpServer,
    conversation: str = "web-1",
) -> str:
    """Send a code to ADDRESS for ``conversation`` and read it from the server's mailbox."""
    person = await new_conversation(sessionmaker, clock, conversation)
    before = len(server.sink.messages)
    async with desk_session(sessionmaker, clock, smtp(server)) as (desk, _):
        sent = await desk.send_code(person, ADDRESS)
    assert sent.expires_at == clock.now() + timedelta(minutes=10)
    mails = await server.sink.wait_for(before + 1)
    return extract_code(mails[-1])


async def check(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock, code: str, conversation: str = "web-1"
) -> CodeCheck:
    """Check ``code`` in ``conversation``'s latest code."""
    person = await new_conversation(sessionmaker, clock, conversation)
    async with desk_session(sessionmaker, clock) as (desk, _):
        return await desk.check_code(person, code)


async def test_code_arrives_by_smtp_and_is_accepted(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock, smtp_server: SmtpServer
) -> None:
    """The mailed code (read from the real server) verifies the address, once; only its hash is stored."""
    code = await send(sessionmaker, clock, smtp_server)
    mail = smtp_server.sink.messages[-1]
    assert mail.rcpt_tos == (ADDRESS,)
    assert mail.auth_user == smtp_server.user
    assert "10 minutes" in mail.text and "ignore" in mail.text.lower()
    async with sessionmaker() as session:
        row = (await session.scalars(select(VerificationCode))).one()
    assert code not in row.code_hash and code not in row.salt
    result = await check(sessionmaker, clock, code)
    assert result.result is CodeResult.ACCEPTED
    assert result.address == ADDRESS
    assert (await check(sessionmaker, clock, code)).result is CodeResult.MISSING


async def test_sixth_attempt_is_refused_even_with_the_right_code(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock, smtp_server: SmtpServer
) -> None:
    """Five wrong guesses count down; the sixth attempt is LOCKED although the code is right."""
    code = await send(sessionmaker, clock, smtp_server)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    left = [(await check(sessionmaker, clock, wrong)).attempts_left for _ in range(5)]
    assert left == [4, 3, 2, 1, 0]
    sixth = await check(sessionmaker, clock, code)
    assert sixth.result is CodeResult.LOCKED
    assert sixth.address is None


async def test_code_expires_after_ten_minutes(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock, smtp_server: SmtpServer
) -> None:
    """At 9:59 the code works; a code tried at 10:00 is EXPIRED."""
    code = await send(sessionmaker, clock, smtp_server)
    clock.advance(minutes=10)
    assert (await check(sessionmaker, clock, code)).result is CodeResult.EXPIRED
    clock.advance(minutes=1)
    fresh = await send(sessionmaker, clock, smtp_server)
    clock.advance(minutes=9, seconds=59)
    assert (await check(sessionmaker, clock, fresh)).result is CodeResult.ACCEPTED


async def test_only_the_latest_code_counts(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock, smtp_server: SmtpServer
) -> None:
    """After a resend, the earlier code no longer works."""
    first = await send(sessionmaker, clock, smtp_server)
    clock.advance(seconds=61)
    second = await send(sessionmaker, clock, smtp_server)
    if first != second:
        assert (await check(sessionmaker, clock, first)).result is CodeResult.WRONG
    assert (await check(sessionmaker, clock, second)).result is CodeResult.ACCEPTED


async def test_resend_is_rate_limited(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock, smtp_server: SmtpServer
) -> None:
    """A new code waits 60 s after the last; the sixth within an hour waits until the first is an hour old."""
    await send(sessionmaker, clock, smtp_server)
    clock.advance(seconds=20)
    with pytest.raises(ResendTooSoon) as early:
        await send(sessionmaker, clock, smtp_server)
    assert early.value.retry_after_seconds == 40
    for _ in range(4):
        clock.advance(seconds=60)
        await send(sessionmaker, clock, smtp_server)
    clock.advance(seconds=60)
    with pytest.raises(ResendTooSoon) as hourly:
        await send(sessionmaker, clock, smtp_server)
    assert hourly.value.retry_after_seconds == 3600 - (20 + 5 * 60)
    assert len(smtp_server.sink.messages) == 5


async def test_the_same_address_is_limited_across_conversations(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock, smtp_server: SmtpServer
) -> None:
    """Opening new conversations does not let anyone flood one mailbox with codes."""
    for number in range(5):
        await send(sessionmaker, clock, smtp_server, f"web-{number}")
        clock.advance(seconds=1)
    with pytest.raises(ResendTooSoon):
        await send(sessionmaker, clock, smtp_server, "web-99")


async def test_code_mail_waits_out_an_smtp_outage_and_is_blanked_once_sent(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock, smtp_server: SmtpServer
) -> None:
    """With the SMTP server down the code mail stays queued (the turn itself succeeds); once the server
    answers it is mailed, once, and its outbox row no longer holds the code."""
    person = await new_conversation(sessionmaker, clock)
    dead = SmtpMailSender(host="127.0.0.1", port=free_port(), timeout=2)
    async with desk_session(sessionmaker, clock, dead) as (desk, _):
        await desk.send_code(person, ADDRESS)
    [row] = await outbox_rows(sessionmaker)
    assert row.delivered_at is None and row.last_error and row.secret
    clock.advance(minutes=1)
    await mail_outbox(sessionmaker, clock, smtp(smtp_server)).flush()
    [mail] = await smtp_server.sink.wait_for(1)
    code = extract_code(mail)
    assert mail.message["Auto-Submitted"] == "auto-generated"
    [row] = await outbox_rows(sessionmaker)
    assert row.delivered_at is not None and row.text == "" and row.parts is None
    assert code not in str(row.meta)
    assert (await check(sessionmaker, clock, code)).result is CodeResult.ACCEPTED


async def test_code_mail_still_unsent_when_the_code_expired_is_dropped(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock, smtp_server: SmtpServer
) -> None:
    """A code mail the SMTP server refused until its code expired is never sent (a stale code would only
    confuse) and is blanked."""
    person = await new_conversation(sessionmaker, clock)
    dead = SmtpMailSender(host="127.0.0.1", port=free_port(), timeout=2)
    async with desk_session(sessionmaker, clock, dead) as (desk, _):
        await desk.send_code(person, ADDRESS)
    clock.advance(minutes=11)
    await mail_outbox(sessionmaker, clock, smtp(smtp_server)).flush()
    [row] = await outbox_rows(sessionmaker)
    assert (row.route, row.text) == (DeliveryRoute.EXPIRED, "")
    assert smtp_server.sink.messages == []


async def outbox_rows(sessionmaker: async_sessionmaker[AsyncSession]) -> list[PendingDelivery]:
    """Every row of the delivery outbox."""
    async with sessionmaker() as session:
        return list((await session.scalars(select(PendingDelivery))).all())


def wrong_for(code: str) -> str:
    """A six-digit code other than ``code``."""
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def test_a_resend_reset_the_failed_attempt_limit(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock, smtp_server: SmtpServer
) -> None:
    """Regression: each resend gave five fresh attempts. Ten wrong codes in a conversation, across resends,
    start a cooling-off: no further code is sent or checked (even the right one) until it is over."""
    code = await send(sessionmaker, clock, smtp_server)
    for _ in range(5):
        await check(sessionmaker, clock, wrong_for(code))
    clock.advance(seconds=61)
    code = await send(sessionmaker, clock, smtp_server)
    results = [(await check(sessionmaker, clock, wrong_for(code))).result for _ in range(5)]
    assert results == [CodeResult.WRONG] * 4 + [CodeResult.COOLING_OFF]
    right = await check(sessionmaker, clock, code)
    assert right.result is CodeResult.COOLING_OFF and right.address is None
    assert 23 * 3600 < right.retry_after_seconds <= 24 * 3600
    clock.advance(seconds=61)
    with pytest.raises(CodeCoolingOff):
        await send(sessionmaker, clock, smtp_server)
    clock.advance(hours=24)
    fresh = await send(sessionmaker, clock, smtp_server)
    assert (await check(sessionmaker, clock, fresh)).result is CodeResult.ACCEPTED


async def test_new_conversations_reset_the_failed_attempts_for_one_address(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock, smtp_server: SmtpServer
) -> None:
    """Regression: failures were counted per code only. Wrong codes for one address add up across
    conversations; after ten a brand-new conversation gets no code for that address either."""
    for number in range(2):
        code = await send(sessionmaker, clock, smtp_server, f"web-{number}")
        for _ in range(5):
            await check(sessionmaker, clock, wrong_for(code), f"web-{number}")
        clock.advance(seconds=61)
    with pytest.raises(CodeCoolingOff) as cooling:
        await send(sessionmaker, clock, smtp_server, "web-new")
    assert cooling.value.retry_after_seconds > 23 * 3600


async def test_code_was_mailed_to_an_address_outside_a_filled_directory(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock, smtp_server: SmtpServer
) -> None:
    """Regression: any address got a code. With a directory loaded only its addresses get mail, and the
    answer for an unknown address is the same as for a known one (no account enumeration)."""
    await import_directory(sessionmaker, "email\nknown@example.com\n", clock=clock)
    unknown_person = await new_conversation(sessionmaker, clock, "web-unknown")
    known_person = await new_conversation(sessionmaker, clock, "web-known")
    async with desk_session(sessionmaker, clock, smtp(smtp_server)) as (desk, _):
        unknown = await desk.send_code(unknown_person, ADDRESS)
        known = await desk.send_code(known_person, "known@example.com")
    mails = await smtp_server.sink.wait_for(1)
    assert [m.rcpt_tos for m in mails] == [("known@example.com",)]
    assert (unknown.expires_at, type(unknown)) == (known.expires_at, type(known))
    result = await check(sessionmaker, clock, "123456", "web-unknown")
    assert result.result is CodeResult.WRONG and result.attempts_left == 4


async def test_code_mail_lacked_auto_submitted(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock, smtp_server: SmtpServer
) -> None:
    """Regression: code mails had no ``Auto-Submitted`` header, so vacation responders answered them."""
    await send(sessionmaker, clock, smtp_server)
    assert smtp_server.sink.messages[-1].message["Auto-Submitted"] == "auto-generated"


async def test_codes_and_addresses_are_never_logged(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FrozenClock,
    smtp_server: SmtpServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Nothing logged while sending and checking contains the code or the address."""
    caplog.set_level(logging.DEBUG)
    code = await send(sessionmaker, clock, smtp_server)
    await check(sessionmaker, clock, "000000" if code != "000000" else "111111")
    await check(sessionmaker, clock, code)
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("bot.")]
    assert ours
    assert not [m for m in ours if code in m or ADDRESS in m]
