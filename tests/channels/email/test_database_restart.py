"""The email channel while its PostgreSQL (a private cluster) is stopped: a mail that cannot be stored waits
in the inbox, however many tries the outage takes, and is answered once the database is back."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.channels.email.channel import MAX_HANDLE_ATTEMPTS
from bot.conversation.engine import TurnResult
from bot.messages import InboundMessage
from tests.channels.email.conftest import (
    AUTHSERV_ID,
    PERSON,
    EmailHarness,
    make_mail,
    quarantined,
    wait_until,
)
from tests.support.private_postgres import PrivatePostgres

pytestmark = [pytest.mark.postgres, pytest.mark.private_postgres]

QUESTION = "Hello,\n\nhow long do you keep my personal data?\n\nAnna"
DMARC_PASS = {
    "Authentication-Results": f"{AUTHSERV_ID}; spf=pass smtp.mailfrom=example.com; "
    "dkim=pass header.d=example.com; dmarc=pass (p=reject) header.from=example.com"
}


@pytest.fixture
async def database_url(private_postgres: PrivatePostgres) -> AsyncIterator[str]:
    """The store of these tests is the private cluster, which the test may stop."""
    yield private_postgres.url


async def test_a_mail_during_a_database_outage_is_answered_afterwards_not_quarantined(
    email: EmailHarness, private_postgres: PrivatePostgres
) -> None:
    """With PostgreSQL stopped, a question mail fails more often than the quarantine allows for a faulty
    mail, yet stays unmarked in the inbox; after the restart it is answered once and marked done."""
    email.settings = email.settings.model_copy(update={"imap_retry_max_seconds": 0.3})
    handle = email.make_handle()
    failures: list[str] = []

    async def counting_handle(inbound: InboundMessage) -> TurnResult:
        try:
            return await handle(inbound)
        except Exception as exc:
            failures.append(type(exc).__name__)
            raise

    await email.start(counting_handle)
    await private_postgres.stop()
    await email.send(make_mail(QUESTION, subject="Retention", headers=DMARC_PASS))
    await wait_until(lambda: _value(failures), lambda seen: len(seen) > MAX_HANDLE_ATTEMPTS, timeout=30)
    assert await quarantined(email) == []
    [waiting] = await email.mailbox.alist_folder()
    assert "$PrivacybotDone" not in waiting.flags

    await private_postgres.start()
    [reply] = await email.wait_replies(1, timeout=30)
    assert reply.rcpt_tos == (PERSON,)
    await email.wait_done(1)
    assert await quarantined(email) == []


async def _value(items: list[str]) -> list[str]:
    return list(items)
