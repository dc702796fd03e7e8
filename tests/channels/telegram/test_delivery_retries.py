"""Retrying a refused Telegram delivery, against the local Bot API stand-in: fast, bounded, jittered, and no
sooner than Telegram's ``retry_after``."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app import Core
from bot.channels.telegram import build_telegram_channel
from bot.channels.telegram.delivery import deliver
from bot.deliveries import Deliveries
from bot.domain.channels import ChannelName
from bot.domain.clock import SystemClock
from bot.domain.errors import DeliveryFailed
from bot.messages import OutboundMessage
from bot.officer.outbox import DeliveryOutbox
from bot.store.db import create_engine, create_sessionmaker
from tests.channels.telegram.conftest import open_turns, telegram_settings
from tests.support.outbox import drained
from tests.support.telegram_api import FakeTelegramAPI

CHAT = 4242
PRODUCTION_INTERVAL = 15.0  # the drain's own sweep when running: the retries must not wait for it


async def test_answer_after_two_server_errors_arrives_within_ten_seconds_once(
    core: Core, tmp_path: Path, telegram_api: FakeTelegramAPI
) -> None:
    """Regression: after two HTTP 500s from Telegram the answer came 90 s later, on the outbox's 30 s sweeps.
    With the outbox's own retry timing and its 15 s sweep, the retries come after about 1 s and 2 s: the
    answer arrives within 10 s of the person's message, exactly once."""
    async with open_turns(core, tmp_path, interval_seconds=PRODUCTION_INTERVAL, first_retry=None) as turns:
        channel = turns.serve(
            build_telegram_channel(telegram_settings(tmp_path, telegram_api), turns.handle, None)
        )
        await channel.start()
        try:
            telegram_api.fail("sendMessage", times=2)
            started = time.monotonic()
            telegram_api.queue_update(telegram_api.message_update(CHAT, "/help"))
            calls = await telegram_api.wait_for_calls("sendMessage", 3, timeout=10)
            assert time.monotonic() - started < 10
            assert [call.status for call in calls] == [500, 500, 200]
            await drained(turns.outbox)
        finally:
            await channel.stop()
    [reply] = telegram_api.sent_messages(CHAT)
    assert "privacy assistant" in reply["text"]


async def test_flood_control_tells_the_outbox_how_long_to_wait(telegram_api: FakeTelegramAPI) -> None:
    """A 429 from Telegram becomes a DeliveryFailed that carries its ``retry_after`` seconds."""
    bot = telegram_api.create_bot()
    telegram_api.flood("sendMessage", retry_after=7)
    message = OutboundMessage(channel=ChannelName.TELEGRAM, recipient_id=str(CHAT), text="Hello")
    try:
        with pytest.raises(DeliveryFailed) as refused:
            await deliver(bot, message)
    finally:
        await bot.session.close()
    assert refused.value.retry_after == 7


@pytest.mark.parametrize("unit", [0.0, 0.5, 0.999])
def test_retry_delays_double_from_a_second_jittered_and_capped(unit: float, tmp_path: Path) -> None:
    """The wait after the n-th failure is 1 s doubling, moved at most a fifth either way by the jitter, never
    above the cap, and never below what Telegram asked for."""
    outbox = DeliveryOutbox(
        create_sessionmaker(create_engine(f"sqlite:///{tmp_path / 'unused.sqlite3'}")),
        deliveries=Deliveries(),
        clock=SystemClock(),
        random_unit=lambda: unit,
    )
    for attempts, base in [(1, 1.0), (2, 2.0), (3, 4.0), (6, 32.0)]:
        delay = outbox.retry_delay(attempts).total_seconds()
        assert base * 0.8 <= delay <= base * 1.2
    assert outbox.retry_delay(40) <= timedelta(minutes=5)
    assert outbox.retry_delay(1, retry_after=7) >= timedelta(seconds=7)
    assert outbox.retry_delay(12, retry_after=7) > timedelta(seconds=7)  # the backoff is longer by then
