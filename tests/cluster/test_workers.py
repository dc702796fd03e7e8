"""Three real worker processes on one PostgreSQL and Redis behave as one assistant."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.cluster.local import LocalCluster, Worker
from bot.officer.web.security import SESSION_COOKIE
from bot.store.db import create_engine, create_sessionmaker
from bot.store.models import Conversation, Lease, SlaNotification
from bot.store.officer_models import DeliveryRoute, PendingDelivery
from tests.channels.email.conftest import make_mail
from tests.support.cluster import (
    officer_token,
    reminder_subjects,
    running_cluster,
    seed_due_tickets,
    seed_web_ticket,
    signed_in_officer,
    wait_for_reminders,
)
from tests.support.imap_server import ImapMailbox
from tests.support.mail_servers import SmtpServer
from tests.support.redis_server import REDIS_HOST, REDIS_PORT

pytestmark = [pytest.mark.postgres, pytest.mark.asyncio(loop_scope="module")]

RATE_LIMIT = 6


def fresh_redis_url() -> str:
    """One of Redis's databases 1-15, at random (tests running at once rarely share one)."""
    return f"redis://{REDIS_HOST}:{REDIS_PORT}/{random.randint(1, 15)}"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def cluster(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LocalCluster]:
    """Three workers, a per-session limit of RATE_LIMIT messages a minute."""
    env = {"PRIVACYBOT_RATE_LIMIT_PER_MINUTE": str(RATE_LIMIT), "PRIVACYBOT_LOG_LEVEL": "WARNING"}
    async with running_cluster(tmp_path_factory.mktemp("cluster"), fresh_redis_url(), env=env) as running:
        yield running


@pytest_asyncio.fixture(loop_scope="module")
async def database(cluster: LocalCluster) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on the cluster's database."""
    engine: AsyncEngine = create_engine(cluster.database_url)
    try:
        yield create_sessionmaker(engine)
    finally:
        await engine.dispose()


async def chat(http: aiohttp.ClientSession, worker: Worker, session_id: str, text: str) -> list[str]:
    """Send ``text`` in ``session_id`` through ``worker``; the replies."""
    async with http.post(f"{worker.url}/api/chat", json={"session_id": session_id, "text": text}) as response:
        assert response.status == 200, await response.text()
        return list((await response.json())["replies"])


async def officer_reply(
    http: aiohttp.ClientSession, worker: Worker, token: str, reference: str, text: str
) -> dict[str, Any]:
    """An officer's reply to ticket ``reference`` through ``worker``'s API; its JSON answer."""
    async with http.post(
        f"{worker.url}/api/officer/tickets/{reference}/replies",
        json={"text": text},
        headers={"Authorization": f"Bearer {token}"},
    ) as response:
        assert response.status == 201, await response.text()
        return dict(await response.json())


async def new_session(http: aiohttp.ClientSession, worker: Worker) -> str:
    """A session id issued by ``worker``."""
    async with http.post(f"{worker.url}/api/sessions") as response:
        assert response.status == 201
        return str((await response.json())["session_id"])


async def test_officer_reply_posted_through_b_reaches_a_websocket_on_a(
    cluster: LocalCluster, database: async_sessionmaker[AsyncSession]
) -> None:
    """A page's websocket is open on worker A; an officer answers its ticket through worker B's API; the
    reply is pushed on A's websocket (through Redis), and B counts it as seen (the page is open, on A):
    no fallback mail is planned."""
    a, b, _ = cluster.members
    async with aiohttp.ClientSession() as http:
        session_id = await new_session(http, a)
        reference = await seed_web_ticket(database, session_id)
        token = await officer_token(database)
        async with http.ws_connect(f"{a.url}/api/sessions/{session_id}/ws") as socket:
            sent = await officer_reply(http, b, token, reference, "We have started on your request.")
            assert sent["delivered"] is True
            pushed = await socket.receive_json(timeout=10)
    assert "We have started on your request." in pushed["text"]
    assert pushed["ticket_reference"] == reference
    async with database() as session:
        delivery = (
            await session.scalars(
                select(PendingDelivery).where(PendingDelivery.ticket_reference == reference)
            )
        ).one()
    assert delivery.route is DeliveryRoute.CHANNEL and delivery.fallback_at is None


async def test_follow_up_posted_on_b_reaches_an_officer_live_inbox_on_a(
    cluster: LocalCluster, database: async_sessionmaker[AsyncSession]
) -> None:
    """An officer's live inbox is open on worker A; the person answers the officer's reply in the web chat
    through worker B (a follow-up, added to the ticket); A's inbox gets the ticket's event (through
    Redis, from whichever worker runs the feed)."""
    a, b, _ = cluster.members
    async with aiohttp.ClientSession() as http:
        session_id = await new_session(http, b)
        await chat(http, b, session_id, "hi")
        async with database() as session:
            conversation_id = await session.scalar(
                select(Conversation.id).where(Conversation.sender_id == session_id)
            )
        reference = await seed_web_ticket(database, session_id, conversation_id=conversation_id)
        token, dashboard = await signed_in_officer(database)
        await officer_reply(http, b, token, reference, "Which invoice do you mean?")
        cookie = {"Cookie": f"{SESSION_COOKIE}={dashboard}"}
        async with http.ws_connect(f"{a.url}/officer/live", headers=cookie) as inbox:
            replies = await chat(http, b, session_id, "The one from March, thank you.")
            assert any(reference in reply for reply in replies), replies
            async with asyncio.timeout(10):
                while True:
                    event = await inbox.receive_json()
                    if event["reference"] == reference and event["event"] == "requester_message":
                        break


async def test_two_messages_at_once_to_a_and_b_are_answered_in_order(cluster: LocalCluster) -> None:
    """Two messages of one conversation sent at the same instant, one to A and one to B: both answered,
    and the history (read through C) reads each message followed by its own replies."""
    a, b, c = cluster.members
    async with aiohttp.ClientSession() as http:
        session_id = await new_session(http, a)
        texts = {a.index: "What data do you collect about me?", b.index: "How long do you keep my data?"}

        async def send(worker: Worker) -> list[str]:
            payload = {
                "session_id": session_id,
                "text": texts[worker.index],
                "message_id": f"m-{worker.index}",
            }
            async with http.post(f"{worker.url}/api/chat", json=payload) as response:
                assert response.status == 200, await response.text()
                return list((await response.json())["replies"])

        replies_a, replies_b = await asyncio.gather(send(a), send(b))
        async with http.get(f"{c.url}/api/sessions/{session_id}/messages") as response:
            history = (await response.json())["messages"]
    assert replies_a and replies_b
    authors = [message["author"] for message in history]
    assert authors.count("person") == 2
    a_first = history[0]["text"] == texts[a.index]
    first, second = ((texts[a.index], replies_a), (texts[b.index], replies_b))[:: 1 if a_first else -1]
    expected = [first[0], *first[1], second[0], *second[1]]
    assert [message["text"] for message in history] == expected


async def test_rate_limit_hit_on_a_holds_on_b(cluster: LocalCluster) -> None:
    """A session that used its allowance on worker A is refused (429, Retry-After) on worker B."""
    a, b, _ = cluster.members
    async with aiohttp.ClientSession() as http:
        session_id = await new_session(http, a)
        for n in range(RATE_LIMIT):
            payload = {"session_id": session_id, "text": "hi", "message_id": f"r{n}"}
            async with http.post(f"{a.url}/api/chat", json=payload) as response:
                assert response.status == 200
        payload = {"session_id": session_id, "text": "hi", "message_id": "over"}
        async with http.post(f"{b.url}/api/chat", json=payload) as response:
            assert response.status == 429
            assert int(response.headers["Retry-After"]) >= 1


async def test_load_balancer_serves_a_session_across_workers(cluster: LocalCluster) -> None:
    """Through HAProxy, requests land on different workers yet one session id works on all of them."""
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{cluster.url}/api/sessions") as response:
            session_id = (await response.json())["session_id"]
        for n in range(3):
            payload = {
                "session_id": session_id,
                "text": "who is your privacy officer?",
                "message_id": f"lb{n}",
            }
            async with http.post(f"{cluster.url}/api/chat", json=payload) as response:
                assert response.status == 200
        async with http.get(f"{cluster.url}/healthz") as response:
            assert await response.json() == {"status": "ok", "database": "ok", "redis": "ok"}


async def test_thousand_due_reminders_with_three_sweepers_are_sent_once_each(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    """1,000 tickets with a reminder due; three workers sweep every second: every reminder is mailed to
    the officer exactly once."""
    env = {
        "PRIVACYBOT_SWEEP_INTERVAL_SECONDS": "1",
        "PRIVACYBOT_SMTP_HOST": smtp_server.host,
        "PRIVACYBOT_SMTP_PORT": str(smtp_server.port),
        "PRIVACYBOT_LOG_LEVEL": "WARNING",
    }
    references: list[str] = []

    async def seed(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        references.extend(await seed_due_tickets(sessionmaker, 1000))

    async with running_cluster(tmp_path, fresh_redis_url(), env=env, prepare=seed) as running:
        await wait_for_reminders(smtp_server.sink, 1000, timeout=240)
        await asyncio.sleep(3)  # a double would arrive within a sweep or two
        engine = create_engine(running.database_url)
        try:
            async with create_sessionmaker(engine)() as session:
                sent = await session.scalar(
                    select(func.count())
                    .select_from(SlaNotification)
                    .where(SlaNotification.sent_at.is_not(None))
                )
        finally:
            await engine.dispose()
    per_subject = reminder_subjects(smtp_server.sink)
    assert len(per_subject) == 1000 and set(per_subject.values()) == {1}
    assert {ref for ref in references if any(ref in subject for subject in per_subject)} == set(references)
    assert sent == 1000


async def test_killing_the_imap_polling_worker_hands_polling_over_within_the_lease(
    tmp_path: Path, imap_server: ImapMailbox, smtp_server: SmtpServer
) -> None:
    """Three workers read one mailbox: one holds the IMAP lease. SIGKILL it: another takes the lease
    within PRIVACYBOT_LEASE_SECONDS and answers the next mail."""
    lease_seconds = 4.0
    env = {
        "PRIVACYBOT_IMAP_HOST": imap_server.host,
        "PRIVACYBOT_IMAP_PORT": str(imap_server.port),
        "PRIVACYBOT_IMAP_USER": imap_server.user,
        "PRIVACYBOT_IMAP_PASSWORD": imap_server.password,
        "PRIVACYBOT_IMAP_SECURITY": "none",
        "PRIVACYBOT_IMAP_POLL_SECONDS": "1",
        "PRIVACYBOT_SMTP_HOST": smtp_server.host,
        "PRIVACYBOT_SMTP_PORT": str(smtp_server.port),
        "PRIVACYBOT_LEASE_SECONDS": str(lease_seconds),
        "PRIVACYBOT_LOG_LEVEL": "WARNING",
    }

    def answers() -> int:
        return sum("In-Reply-To" in m.message for m in smtp_server.sink.messages)

    async with running_cluster(tmp_path, fresh_redis_url(), env=env) as running:
        engine = create_engine(running.database_url)
        try:
            sessionmaker = create_sessionmaker(engine)

            async def holder_pid() -> int | None:
                async with sessionmaker() as session:
                    lease = await session.get(Lease, "email-polling")
                return int(lease.holder.split(":")[1]) if lease is not None else None

            first = await holder_pid()
            holders = [w for w in running.members if w.process is not None and w.process.pid == first]
            assert len(holders) == 1, "exactly one worker polls IMAP"
            await imap_server.adeliver(make_mail("How long do you keep my data?", subject="Retention"))
            await smtp_server.sink.wait_for(lambda _: answers() >= 1, timeout=30)
            await running.kill(holders[0])
            killed_at = time.monotonic()
            second = first
            for _ in range(int(lease_seconds * 30)):  # polled every 0.1 s, three leases at most
                second = await holder_pid()
                if second not in (first, None):
                    break
                await asyncio.sleep(0.1)
            took_over = time.monotonic() - killed_at
            assert second not in (first, None)
            assert took_over <= lease_seconds
            await imap_server.adeliver(make_mail("Do you sell my data?", subject="Selling"))
            await smtp_server.sink.wait_for(lambda _: answers() >= 2, timeout=30)
        finally:
            await engine.dispose()
