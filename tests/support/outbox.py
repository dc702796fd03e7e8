"""The delivery outbox as the tests run it: the real ``DeliveryOutbox`` over the test database.

* :func:`mail_outbox` — email only, through a given MailSender: pass its ``flush`` as a turn store's
  ``after_commit`` and what a turn queues for email (a code mail, an email reply) is mailed as soon as the
  turn commits, before ``handle`` returns.
* :func:`running_outbox` — the drain loop as ``privacybot run`` runs it (rung by the turns' bell), for
  channels under test that deliver later (Telegram, email); :func:`drained` waits until nothing is queued.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.email.outgoing import OutgoingMail
from bot.deliveries import Deliveries, DeliveryBell
from bot.domain.channels import ChannelName
from bot.domain.clock import Clock
from bot.mail import MailSender
from bot.officer.outbox import FIRST_RETRY, DeliveryOutbox
from responses import Responses

MAIL_FROM = "privacy-assistant@zynorlink.example"


def mail_outbox(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    mail: MailSender,
    responses: Responses | None = None,
    *,
    mail_from: str = MAIL_FROM,
) -> DeliveryOutbox:
    """An outbox that mails the email deliveries of ``sessionmaker``'s database through ``mail``."""
    outgoing = OutgoingMail(mail, mail_from=mail_from, responses=responses or Responses())
    return DeliveryOutbox(
        sessionmaker,
        deliveries=Deliveries({ChannelName.EMAIL: outgoing}),
        clock=clock,
        channels=frozenset({ChannelName.EMAIL}),
    )


@contextlib.asynccontextmanager
async def running_outbox(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    deliveries: Deliveries,
    bell: DeliveryBell,
    *,
    first_retry: timedelta | None = None,
    interval_seconds: float = 0.5,
) -> AsyncIterator[DeliveryOutbox]:
    """The drain loop over ``deliveries``, woken by ``bell`` (and every ``interval_seconds``); stopped on
    leaving. ``first_retry`` None keeps the outbox's own retry timing."""
    outbox = DeliveryOutbox(
        sessionmaker,
        deliveries=deliveries,
        clock=clock,
        bell=bell,
        interval_seconds=interval_seconds,
        first_retry=first_retry or FIRST_RETRY,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(outbox.run(stop), name="test-outbox")
    try:
        yield outbox
    finally:
        stop.set()
        await task


async def drained(outbox: DeliveryOutbox, timeout: float = 15) -> None:  # noqa: ASYNC109
    """Wait until ``outbox`` has nothing left to send."""
    deadline = time.monotonic() + timeout
    while await outbox.pending():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{await outbox.pending()} deliveries still queued after {timeout}s")
        await asyncio.sleep(0.02)
