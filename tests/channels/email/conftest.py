"""A running email channel over a real dovecot mailbox, a real SMTP sink and the real SQL store, with the
delivery outbox that sends its replies (as `privacybot run` wires them)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import Core
from bot.channels.base import HandleInbound
from bot.channels.email import build_email_channel
from bot.channels.email.channel import EmailChannel
from bot.channels.email.imap import DONE_KEYWORD
from bot.deliveries import Deliveries, DeliveryBell
from bot.mail import MailSender
from bot.mail.smtp import SmtpMailSender
from bot.officer.outbox import DeliveryOutbox
from bot.settings import Settings
from bot.store.models import Ticket
from bot.store.officer_models import PendingDelivery
from bot.store.outbox import DeliveryQueue
from bot.tickets.desk import sql_turn_store_factory
from tests.support.core import make_settings
from tests.support.database import FrozenClock
from tests.support.imap_server import ImapMailbox, StoredMessage
from tests.support.mail_servers import ReceivedMail, SmtpServer
from tests.support.outbox import running_outbox

BOT_ADDRESS = "privacy-assistant@zynorlink.example"
AUTHSERV_ID = "mx.zynorlink.example"
PERSON = "anna.k@example.com"
T = TypeVar("T")


def make_mail(
    body: str = "",
    *,
    sender: str = PERSON,
    subject: str = "Delete my account",
    headers: dict[str, str] | None = None,
    html: str | None = None,
    charset: str = "utf-8",
    message_id: str | None = None,
) -> bytes:
    """A mail from ``sender`` to the privacy mailbox, as raw bytes."""
    mail = EmailMessage()
    mail["From"] = f"Anna K <{sender}>"
    mail["To"] = "privacy@zynorlink.example"
    mail["Subject"] = subject
    mail["Message-ID"] = message_id or make_msgid(domain="example.com")
    for name, value in (headers or {}).items():
        mail[name] = value
    if html is not None and not body:
        mail.set_content(html, subtype="html", charset=charset)
    else:
        mail.set_content(body, charset=charset)
    return mail.as_bytes()


def reply_to(previous: ReceivedMail, body: str, *, sender: str = PERSON) -> bytes:
    """The person's answer to one of our mails, in its thread, quoting it the way mail clients do."""
    quoted = "\n".join(f"> {line}" for line in previous.text.splitlines())
    return make_mail(
        f"{body}\n\nOn Mon, 2 Mar 2026 at 09:00, ZynorLink <{BOT_ADDRESS}> wrote:\n{quoted}\n",
        sender=sender,
        subject=f"Re: {previous.subject}",
        headers={
            "In-Reply-To": str(previous.message["Message-ID"]),
            "References": " ".join(
                filter(
                    None, [str(previous.message.get("References", "")), str(previous.message["Message-ID"])]
                )
            ),
        },
    )


@dataclass
class EmailHarness:
    """The channel under test, the delivery outbox sending what its turns queue, and the servers around."""

    settings: Settings
    mailbox: ImapMailbox
    smtp: SmtpServer
    sessionmaker: async_sessionmaker[AsyncSession]
    clock: FrozenClock
    make_handle: Callable[[], HandleInbound]
    bell: DeliveryBell
    deliveries: Deliveries = field(default_factory=Deliveries)
    channels: list[EmailChannel] = field(default_factory=list)
    outbox: DeliveryOutbox | None = None
    _drain: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack)

    async def start(
        self, handle: HandleInbound | None = None, *, sender: MailSender | None = None, drain: bool = True
    ) -> EmailChannel:
        """Start a channel (a fresh one: as after a restart) mailing through ``sender`` (default: the SMTP
        sink), and, unless ``drain`` is false, the outbox's drain if it is not running yet."""
        queue = DeliveryQueue(self.sessionmaker, clock=self.clock, after_commit=self.bell.ring)
        sender = sender or SmtpMailSender.from_settings(self.settings)
        channel = build_email_channel(self.settings, handle or self.make_handle(), sender, queue=queue)
        assert isinstance(channel, EmailChannel)
        self.deliveries.register(channel)
        if drain and self.outbox is None:
            self.outbox = await self._drain.enter_async_context(
                running_outbox(self.sessionmaker, self.clock, self.deliveries, self.bell)
            )
        await channel.start()
        self.channels.append(channel)
        return channel

    async def stop(self) -> None:
        """Stop every channel started, and the drain (as a process stopping, or dying)."""
        for channel in self.channels:
            await channel.stop()
        self.channels.clear()
        await self._drain.aclose()
        self.outbox = None

    async def queued(self) -> list[PendingDelivery]:
        """Every row of the delivery outbox, oldest first."""
        async with self.sessionmaker() as session:
            return list((await session.scalars(select(PendingDelivery).order_by(PendingDelivery.id))).all())

    async def send(self, raw: bytes) -> None:
        """A mail arrives in the privacy mailbox."""
        await self.mailbox.adeliver(raw)

    def replies(self) -> list[ReceivedMail]:
        """Our answers (not the verification-code mails), in order."""
        return [m for m in self.smtp.sink.messages if "In-Reply-To" in m.message or "[PRV-" in m.subject]

    def code_mails(self) -> list[ReceivedMail]:
        """The verification-code mails."""
        return [m for m in self.smtp.sink.messages if m not in self.replies()]

    async def wait_replies(self, count: int, timeout: float = 20) -> list[ReceivedMail]:  # noqa: ASYNC109
        """Wait until ``count`` answers went out."""
        await self.smtp.sink.wait_for(lambda _: len(self.replies()) >= count, timeout=timeout)
        return self.replies()

    async def wait_done(self, count: int, folder: str = "INBOX", timeout: float = 20) -> list[StoredMessage]:  # noqa: ASYNC109
        """Wait until ``count`` mails in ``folder`` are marked done; returns them all."""
        return await wait_until(
            lambda: self.mailbox.alist_folder(folder),
            lambda stored: sum(DONE_KEYWORD in m.flags for m in stored) >= count,
            timeout,
        )

    async def tickets(self) -> list[Ticket]:
        """Every ticket in the store."""
        async with self.sessionmaker() as session:
            return list((await session.scalars(select(Ticket).order_by(Ticket.id))).all())

    async def ticket_events(self, reference: str) -> list[str]:
        """The audit-trail event kinds of one ticket."""
        from bot.store.models import TicketEvent

        async with self.sessionmaker() as session:
            ticket = await session.scalar(select(Ticket).where(Ticket.reference == reference))
            assert ticket is not None
            rows = await session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id))
            return [row.event.value for row in rows]

    async def ticket_count(self) -> int:
        """How many tickets exist."""
        async with self.sessionmaker() as session:
            return int(await session.scalar(select(func.count()).select_from(Ticket)) or 0)


async def wait_until(
    probe: Callable[[], Awaitable[T]],
    condition: Callable[[T], bool],
    timeout: float = 20,  # noqa: ASYNC109
) -> T:
    """Poll ``probe`` until ``condition`` holds; raise TimeoutError with the last value otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if condition(value):
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"condition not met in {timeout}s: {value!r}"[:2000])
        await asyncio.sleep(0.1)


async def quarantined(email: EmailHarness) -> list[StoredMessage]:
    """The quarantine folder's mail ([] until the channel has created the folder on demand)."""
    if "Quarantine" not in await asyncio.to_thread(email.mailbox.folders):
        return []
    return await email.mailbox.alist_folder("Quarantine")


@pytest.fixture
async def email(
    core: Core,
    imap_server: ImapMailbox,
    smtp_server: SmtpServer,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FrozenClock,
    tmp_path: Path,
) -> AsyncIterator[EmailHarness]:
    """The email channel wired as in production, on real servers; stopped after the test."""
    settings = make_settings(
        tmp_path,
        imap_host=imap_server.host,
        imap_port=imap_server.port,
        imap_user=imap_server.user,
        imap_password=imap_server.password,
        imap_security="none",
        imap_poll_seconds=5,
        imap_authserv_id=AUTHSERV_ID,
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        mail_from=BOT_ADDRESS,
        attachment_max_bytes=1000,
    )
    bell = DeliveryBell()

    def make_handle() -> HandleInbound:
        stores = sql_turn_store_factory(sessionmaker, clock, settings, core.responses, after_commit=bell.ring)
        return core.conversation(stores).handle

    harness = EmailHarness(settings, imap_server, smtp_server, sessionmaker, clock, make_handle, bell)
    try:
        yield harness
    finally:
        await harness.stop()
