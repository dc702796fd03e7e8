"""The mailbox over STARTTLS and implicit TLS (dovecot with a self-signed certificate we trust); the
conversation on SQLite, its reply sent by the delivery outbox."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import Core
from bot.channels.email import build_email_channel
from bot.deliveries import Deliveries, DeliveryBell
from bot.domain.clock import SystemClock
from bot.mail.smtp import SmtpMailSender
from bot.store.outbox import DeliveryQueue
from bot.tickets.desk import sql_turn_store_factory
from tests.channels.email.conftest import make_mail
from tests.support.core import make_settings
from tests.support.imap_server import ImapMailbox
from tests.support.mail_servers import SmtpServer
from tests.support.outbox import running_outbox


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("security", ["starttls", "tls"])
async def test_mail_is_read_over_an_encrypted_connection(
    security: str,
    core: Core,
    imap_server_starttls: ImapMailbox,
    smtp_server: SmtpServer,
    sessionmaker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    """STARTTLS on the plain port and TLS on the IMAPS port both log in, read and answer a mail."""
    box = imap_server_starttls
    settings = make_settings(
        tmp_path,
        imap_host="127.0.0.1",
        imap_port=box.port if security == "starttls" else box.ssl_port,
        imap_user=box.user,
        imap_password=box.password,
        imap_security=security,
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
    )
    clock, bell, deliveries = SystemClock(), DeliveryBell(), Deliveries()
    stores = sql_turn_store_factory(sessionmaker, clock, settings, core.responses, after_commit=bell.ring)
    channel = build_email_channel(
        settings,
        core.conversation(stores).handle,
        SmtpMailSender.from_settings(settings),
        queue=DeliveryQueue(sessionmaker, clock=clock),
        ssl_context=box.ssl_context(),
    )
    deliveries.register(channel)
    await box.adeliver(make_mail("Hello,\n\nwhat personal data do you collect about me?"))
    async with running_outbox(sessionmaker, clock, deliveries, bell):
        await channel.start()
        try:
            [reply] = await smtp_server.sink.wait_for(1, timeout=20)
        finally:
            await channel.stop()
    assert reply.subject == "Re: Delete my account"
    assert "$PrivacybotDone" in (await box.alist_folder())[0].flags
