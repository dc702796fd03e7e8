"""Chaos: kill -9 the real server at random moments under load, restart it, and reconcile from the database.

    .venv/bin/python -m bench.chaos [--small] [--sessions 12] [--messages 8] [--kills 5]
                                    [--database sqlite|postgresql] [--seed 13] [--fault kill|database-restart]

``--fault database-restart``: instead of killing the server, a private PostgreSQL cluster (started by the
run, ``tests/support/private_postgres.py``) is stopped ``--kills`` times for 2-5 s under the same load and
started again; the server runs on. Answers are counted by status: 503 (with Retry-After) is the expected
answer during an outage, any other 5xx is a defect.

One ``privacybot run`` (its own process, the web channel on a free loopback port, SQLite in a temp dir or a
fresh PostgreSQL schema, mail to a local aiosmtpd sink, the semantic path off: what is measured is delivery,
not answers). Web-chat sessions post messages, each with a message_id, and retry an unanswered one with the
same id until it is acknowledged; a third of them make an erasure request (the code mail goes through the
delivery outbox; the code they read from the sink opens the ticket), two sessions per address, so the second
finds the first one's ticket. Meanwhile the server is SIGKILLed ``--kills`` times at random moments and
restarted at once. Then everything is reconciled:

* every acknowledged message is stored once, with the replies it was answered with (lost, duplicated,
  replies differing), and sending it again (same message_id) gives those replies back;
* every code mail queued is delivered, once per Message-ID. A kill between the SMTP server's acceptance and
  the row's update sends it again after the delivery lease, with the same Message-ID: such doubles are
  counted apart ("after a send cut short": their row was leased more than once), any other is a defect;
* one open ticket per requester and kind.

Prints its figures; exits 1 when anything was lost or duplicated. ``tests/test_chaos.py`` runs ``--small``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import func, select

from bench.web_chat import MESSAGES
from bot.channels.email.compose import mail_domain, outgoing_message_id
from bot.cluster.local import free_port
from bot.domain.channels import ChannelName
from bot.settings import PROJECT_ROOT
from bot.store.db import create_engine, create_sessionmaker
from bot.store.models import Message, MessageDirection, Ticket
from bot.store.officer_models import PendingDelivery
from bot.store.tickets import OPEN_STATUSES
from tests.support.database import create_schema, drop_schema, postgres_url, postgres_user
from tests.support.mail_servers import MailSink, extract_code, start_smtp_server
from tests.support.private_postgres import PrivatePostgres

MAIL_FROM = "privacy-assistant@zynorlink.example"
ERASURE = "I want to delete my account and all my data"
READY_TIMEOUT = 120.0
ANSWER_TIMEOUT = 180.0  # a message still unanswered after this long counts as lost
LEASE_SECONDS = 10  # PRIVACYBOT_DELIVERY_LEASE_SECONDS: a send cut short by a kill is retried this soon


@dataclass(frozen=True)
class ChaosFigures:
    """What one run found."""

    database: str
    sessions: int
    sent: int
    acknowledged: int
    retried: int
    kills: int
    lost: int
    duplicated: int
    replies_differing: int
    retries_answered_differently: int
    requests: int
    tickets: int
    duplicated_tickets: int
    code_mails: int
    code_mails_lost: int
    double_deliveries: int  # a mail received again though its row was leased only once: a defect
    resent_after_cut: int  # a mail received again after a kill cut its send short (same Message-ID)
    seconds: float
    workdir: str  # the server's data (its log, the SQLite file), kept when the run was not clean
    fault: str = "kill"
    unavailable: int = 0  # 503 answers (the database was down)
    server_errors: int = 0  # any other 5xx: a defect

    @property
    def clean(self) -> bool:
        """Nothing lost, duplicated or answered differently."""
        return not (
            self.lost
            or self.duplicated
            or self.replies_differing
            or self.retries_answered_differently
            or self.duplicated_tickets
            or self.code_mails_lost
            or self.double_deliveries
            or self.server_errors
        )


@dataclass
class Sent:
    """One message a session sent, and what it was answered with once acknowledged."""

    session_id: str
    message_id: str
    text: str
    replies: list[str] | None = None
    attempts: int = 0

    @property
    def stored_id(self) -> str:
        """The message's channel message id in the database."""
        return f"{self.session_id}/{self.message_id}"


@dataclass
class Load:
    """Everything the sessions sent, and whether the killing is over."""

    url: str
    sink: MailSink
    rng: random.Random
    sent: list[Sent] = field(default_factory=list)
    requests: int = 0
    kills_done: asyncio.Event = field(default_factory=asyncio.Event)
    statuses: Counter[int] = field(default_factory=Counter)


class Server:
    """One ``privacybot run`` process that can be killed and started again on the same data."""

    def __init__(self, data_dir: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.data_dir = data_dir
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("PRIVACYBOT_")},
            "PRIVACYBOT_DATA_DIR": str(data_dir),
            "PRIVACYBOT_MODEL_CACHE_DIR": str(PROJECT_ROOT / "var" / "models"),
            "PRIVACYBOT_WEB_HOST": "127.0.0.1",
            "PRIVACYBOT_WEB_PORT": str(self.port),
            "PRIVACYBOT_RATE_LIMIT_PER_MINUTE": "1000000",
            "PRIVACYBOT_SEMANTIC": "false",
            "PRIVACYBOT_LOG_LEVEL": "WARNING",
            "PRIVACYBOT_DELIVERY_LEASE_SECONDS": str(LEASE_SECONDS),
            "PRIVACYBOT_MAIL_FROM": MAIL_FROM,
            **env,
        }
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        """Where the web chat listens."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Start the process and wait until /readyz answers 200."""
        with (self.data_dir / "server.log").open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run",
                env=self.env, cwd=str(PROJECT_ROOT), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            )  # fmt: skip
        self.starts += 1
        deadline = time.monotonic() + READY_TIMEOUT
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline and self.process.returncode is None:
                try:
                    async with http.get(
                        f"{self.url}/readyz", timeout=aiohttp.ClientTimeout(total=2)
                    ) as answer:
                        if answer.status == 200:
                            return
                except (aiohttp.ClientError, TimeoutError):
                    pass
                await asyncio.sleep(0.1)
        log_tail = (self.data_dir / "server.log").read_text(errors="replace")[-3000:]
        raise RuntimeError(f"the server did not become ready:\n{log_tail}")

    async def kill(self) -> None:
        """SIGKILL: nothing is flushed, released or said goodbye to."""
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()

    async def stop(self) -> None:
        """SIGTERM and wait (SIGKILL after 30 s)."""
        if self.process is None or self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), 30)
        except TimeoutError:
            await self.kill()


async def acknowledged(
    http: aiohttp.ClientSession,
    url: str,
    payload: dict[str, Any],
    sent: Sent | None = None,
    statuses: Counter[int] | None = None,
) -> dict[str, Any]:
    """POST ``payload`` until the server answers (it may be dead or starting meanwhile), counting the
    attempts in ``sent``; the JSON body. Raises TimeoutError after ANSWER_TIMEOUT."""
    deadline = time.monotonic() + ANSWER_TIMEOUT
    while True:
        if sent is not None:
            sent.attempts += 1
        try:
            async with http.post(url, json=payload, timeout=aiohttp.ClientTimeout(total=30)) as response:
                if statuses is not None:
                    statuses[response.status] += 1
                if response.status in (200, 201):
                    body: dict[str, Any] = await response.json()
                    return body
        except (aiohttp.ClientError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"no answer to {url} in {ANSWER_TIMEOUT} s")
        await asyncio.sleep(0.2)


async def say(http: aiohttp.ClientSession, load: Load, session_id: str, text: str) -> list[str]:
    """Send ``text`` with a fresh message_id, again with the same id until acknowledged; its replies
    (none when it never was)."""
    sent = Sent(session_id, uuid.uuid4().hex[:16], text)
    load.sent.append(sent)
    payload = {"session_id": session_id, "text": text, "message_id": sent.message_id}
    try:
        body = await acknowledged(http, f"{load.url}/api/chat", payload, sent, load.statuses)
    except TimeoutError:
        return []
    sent.replies = list(body.get("replies") or [])
    return sent.replies


async def new_session(http: aiohttp.ClientSession, load: Load) -> str:
    """A web-chat session id (retried while the server is down)."""
    body = await acknowledged(http, f"{load.url}/api/sessions", {}, statuses=load.statuses)
    return str(body["session_id"])


async def asker(http: aiohttp.ClientSession, load: Load, messages: int) -> None:
    """Questions, ``messages`` of them at least and on until the last kill is over."""
    session_id = await new_session(http, load)
    count = 0
    while count < messages or not load.kills_done.is_set():
        await say(http, load, session_id, load.rng.choice(MESSAGES))
        count += 1
        await asyncio.sleep(load.rng.uniform(0.05, 0.3))


async def code_for(load: Load, address: str, before: int, timeout: float = 90) -> str | None:  # noqa: ASYNC109
    """The code in the first mail to ``address`` after the first ``before`` ones (None if none came)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        mails = [m for m in list(load.sink.messages) if address in m.rcpt_tos]
        if len(mails) > before:
            return extract_code(mails[before])
        await asyncio.sleep(0.1)
    return None


async def requester(http: aiohttp.ClientSession, load: Load, address: str) -> None:
    """An erasure request verified by the mailed code, between two questions."""
    session_id = await new_session(http, load)
    await say(http, load, session_id, load.rng.choice(MESSAGES))
    await say(http, load, session_id, ERASURE)
    before = len([m for m in list(load.sink.messages) if address in m.rcpt_tos])
    await say(http, load, session_id, address)
    load.requests += 1
    code = await code_for(load, address, before)
    if code is not None:
        await say(http, load, session_id, code)
    await say(http, load, session_id, load.rng.choice(MESSAGES))


async def requester_pair(http: aiohttp.ClientSession, load: Load, address: str) -> None:
    """Two sessions asking to erase the same address's account, one after the other."""
    await requester(http, load, address)
    await requester(http, load, address)


async def killer(server: Server, load: Load, kills: int, gap: tuple[float, float]) -> int:
    """SIGKILL the server ``kills`` times at random moments, restarting it at once; how many kills."""
    done = 0
    try:
        for _ in range(kills):
            await asyncio.sleep(load.rng.uniform(*gap))
            await server.kill()
            done += 1
            await server.start()
    finally:
        load.kills_done.set()
    return done


async def restarter(database: PrivatePostgres, load: Load, restarts: int, gap: tuple[float, float]) -> int:
    """Stop PostgreSQL ``restarts`` times at random moments for 2-5 s each; how many restarts."""
    done = 0
    try:
        for _ in range(restarts):
            await asyncio.sleep(load.rng.uniform(*gap))
            await database.stop()
            await asyncio.sleep(load.rng.uniform(2.0, 5.0))
            await database.start()
            done += 1
    finally:
        load.kills_done.set()
    return done


async def retried_differently(http: aiohttp.ClientSession, load: Load) -> int:
    """Send every acknowledged message again (same message_id): how many did not get their replies back."""
    differing = 0
    for sent in (s for s in load.sent if s.replies is not None):
        payload = {"session_id": sent.session_id, "text": sent.text, "message_id": sent.message_id}
        body = await acknowledged(http, f"{load.url}/api/chat", payload)
        differing += not body.get("duplicate") or list(body.get("replies") or []) != sent.replies
    return differing


async def reconcile(database_url: str, load: Load, settle: float) -> dict[str, int]:
    """Compare the database and the mail sink with what the sessions were told."""
    engine = create_engine(database_url)
    sessionmaker = create_sessionmaker(engine)
    figures: dict[str, int] = {}
    try:
        deadline = time.monotonic() + settle
        async with sessionmaker() as session:  # wait until the outbox has sent what it holds
            waiting = select(func.count(PendingDelivery.id)).where(PendingDelivery.delivered_at.is_(None))
            while await session.scalar(waiting) and time.monotonic() < deadline:
                await session.rollback()
                await asyncio.sleep(0.2)
        async with sessionmaker() as session:
            ids = [s.stored_id for s in load.sent if s.replies is not None]
            stored = Counter(
                (
                    await session.scalars(
                        select(Message.channel_message_id).where(
                            Message.channel == ChannelName.WEB,
                            Message.direction == MessageDirection.INBOUND,
                            Message.channel_message_id.in_(ids),
                        )
                    )
                ).all()
            )
            replies: dict[str, list[str]] = {}
            for row in await session.execute(
                select(Message.in_reply_to, Message.text)
                .where(Message.direction == MessageDirection.OUTBOUND, Message.in_reply_to.in_(ids))
                .order_by(Message.id)
            ):
                replies.setdefault(str(row.in_reply_to), []).append(row.text)
            figures["lost"] = sum(stored[i] == 0 for i in ids)
            figures["duplicated"] = sum(max(0, stored[i] - 1) for i in ids)
            figures["replies_differing"] = sum(
                replies.get(s.stored_id, []) != s.replies for s in load.sent if s.replies is not None
            )
            open_tickets = (
                await session.execute(
                    select(Ticket.requester_key, Ticket.kind, func.count(Ticket.id))
                    .where(Ticket.status.in_(OPEN_STATUSES))
                    .group_by(Ticket.requester_key, Ticket.kind)
                )
            ).all()
            figures["tickets"] = int(await session.scalar(select(func.count(Ticket.id))) or 0)
            figures["duplicated_tickets"] = sum(count - 1 for *_, count in open_tickets)
            leased = await session.execute(
                select(PendingDelivery.dedup_key, PendingDelivery.attempts).where(
                    PendingDelivery.channel == ChannelName.EMAIL
                )
            )
            leases = {key: attempts for key, attempts in leased.all()}
            undelivered = await session.scalar(
                select(func.count(PendingDelivery.id)).where(PendingDelivery.delivered_at.is_(None))
            )
    finally:
        await engine.dispose()
    domain = mail_domain(MAIL_FROM)
    expected = {outgoing_message_id(domain=domain, reference=None, seed=key): n for key, n in leases.items()}
    received = Counter(str(m.message.get("Message-ID", "")) for m in list(load.sink.messages))
    figures["code_mails"] = len(expected)
    figures["code_mails_lost"] = max(int(undelivered or 0), sum(received[i] == 0 for i in expected))
    again = {i: count - 1 for i, count in received.items() if count > 1}
    figures["resent_after_cut"] = sum(n for i, n in again.items() if expected.get(i, 1) > 1)
    figures["double_deliveries"] = sum(again.values()) - figures["resent_after_cut"]
    return figures


async def run_chaos(
    *,
    sessions: int,
    messages: int,
    kills: int,
    database: str = "sqlite",
    seed: int = 13,
    fault: str = "kill",
) -> ChaosFigures:
    """One chaos run (see the module's docstring); its figures."""
    started = time.perf_counter()
    smtp = start_smtp_server()
    root = Path(tempfile.mkdtemp(prefix="privacybot-chaos-"))
    schema = user = None
    private: PrivatePostgres | None = None
    if fault == "database-restart":
        database, private = "postgresql (private, restarted)", PrivatePostgres()
        await private.init()
        database_url = private.url
    elif database == "postgresql":
        user, reason = await postgres_user()
        if user is None:
            raise SystemExit(reason)
        schema = await create_schema(user)
        database_url = postgres_url(user, schema)
    else:
        database_url = f"sqlite:///{root / 'chaos.sqlite3'}"
    env = {
        "PRIVACYBOT_DATABASE_URL": database_url,
        "PRIVACYBOT_SMTP_HOST": smtp.host,
        "PRIVACYBOT_SMTP_PORT": str(smtp.port),
    }
    server = Server(root, env)
    load = Load(server.url, smtp.sink, random.Random(seed))
    try:
        await server.start()
        pairs = max(1, sessions // 3 // 2)
        connector = aiohttp.TCPConnector(limit=sessions * 2)
        async with aiohttp.ClientSession(connector=connector) as http:
            clients = [asker(http, load, messages) for _ in range(sessions - 2 * pairs)]
            clients += [requester_pair(http, load, f"chaos-{n}@example.com") for n in range(pairs)]
            gap = (1.0, 3.0) if kills <= 3 else (1.0, 5.0)
            fault_task = (
                killer(server, load, kills, gap) if private is None else restarter(private, load, kills, gap)
            )
            killed, *_ = await asyncio.gather(fault_task, *clients)
            differing = await retried_differently(http, load)
        found = await reconcile(database_url, load, settle=LEASE_SECONDS + 20)
        await server.stop()
    finally:
        await server.kill()
        smtp.controller.stop()
        if user is not None and schema is not None:
            await drop_schema(user, schema)
        if private is not None:
            await private.destroy()
    acknowledged_count = sum(s.replies is not None for s in load.sent)
    figures = ChaosFigures(
        database=database,
        sessions=sessions,
        sent=len(load.sent),
        acknowledged=acknowledged_count,
        retried=sum(s.attempts > 1 for s in load.sent),
        kills=int(killed or 0),
        lost=found["lost"] + len(load.sent) - acknowledged_count,
        duplicated=found["duplicated"],
        replies_differing=found["replies_differing"],
        retries_answered_differently=differing,
        requests=load.requests,
        tickets=found["tickets"],
        duplicated_tickets=found["duplicated_tickets"],
        code_mails=found["code_mails"],
        code_mails_lost=found["code_mails_lost"],
        double_deliveries=found["double_deliveries"],
        resent_after_cut=found["resent_after_cut"],
        seconds=time.perf_counter() - started,
        workdir=str(root),
        fault=fault,
        unavailable=load.statuses[503],
        server_errors=sum(n for status, n in load.statuses.items() if status >= 500 and status != 503),
    )
    if figures.clean:
        shutil.rmtree(root, ignore_errors=True)
    return figures


def report(figures: ChaosFigures) -> str:
    """The figures, as printed."""
    load = os.getloadavg()[0]
    return "\n".join(
        [
            f"chaos ({figures.fault}) on {figures.database}: {figures.sessions} sessions "
            f"(load average {load:.1f})",
            f"answers 503 (database down) {figures.unavailable}, other 5xx {figures.server_errors}",
            f"messages sent {figures.sent}, acknowledged {figures.acknowledged}, retried after a kill "
            f"{figures.retried}, kills {figures.kills}",
            f"lost {figures.lost}, duplicated {figures.duplicated}, replies differing "
            f"{figures.replies_differing}, retries answered differently "
            f"{figures.retries_answered_differently}",
            f"erasure requests {figures.requests}, tickets {figures.tickets}, duplicated tickets "
            f"{figures.duplicated_tickets}",
            f"code mails {figures.code_mails}, lost {figures.code_mails_lost}, double deliveries "
            f"{figures.double_deliveries}, sent again after a kill cut the send short "
            f"{figures.resent_after_cut}",
            f"time {figures.seconds:.1f} s"
            + ("" if figures.clean else f"; the server's data: {figures.workdir}"),
        ]
    )


def main() -> None:
    """Parse the options, run, print; exit 1 when anything was lost or duplicated."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", action="store_true", help="6 sessions, 4 messages, 2 kills (the test's)")
    parser.add_argument("--sessions", type=int, default=12)
    parser.add_argument("--messages", type=int, default=8)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--fault", choices=("kill", "database-restart"), default="kill")
    args = parser.parse_args()
    if args.small:
        args.sessions, args.messages, args.kills = 6, 4, 2
    figures = asyncio.run(
        run_chaos(
            sessions=args.sessions,
            messages=args.messages,
            kills=args.kills,
            database=args.database,
            seed=args.seed,
            fault=args.fault,
        )
    )
    print(report(figures))
    raise SystemExit(0 if figures.clean else 1)


if __name__ == "__main__":
    main()
