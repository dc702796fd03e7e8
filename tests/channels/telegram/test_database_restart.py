"""Telegram long polling while its PostgreSQL (a private cluster) is stopped: updates wait, unconfirmed,
until they can be stored; each person is answered once, and nobody is told that nothing was saved."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.app import Core
from bot.channels.telegram import build_telegram_channel
from bot.conversation.engine import TurnResult
from bot.deliveries import Deliveries, DeliveryBell
from bot.domain.clock import SystemClock
from bot.messages import InboundMessage
from bot.store.db import create_engine, create_sessionmaker
from bot.store.migrate import upgrade_database
from bot.tickets.desk import sql_turn_store_factory
from tests.channels.telegram.conftest import RETRY, telegram_settings
from tests.support.core import make_settings
from tests.support.outbox import running_outbox
from tests.support.private_postgres import PrivatePostgres
from tests.support.telegram_api import FakeTelegramAPI

pytestmark = [pytest.mark.postgres, pytest.mark.private_postgres]

CHATS = (7001, 7002, 7003)


async def test_updates_during_a_database_outage_are_answered_once_afterwards(
    tmp_path: Path, core: Core, telegram_api: FakeTelegramAPI, private_postgres: PrivatePostgres
) -> None:
    """Three people write while PostgreSQL is stopped; their turns fail to store again and again; after the
    restart each gets exactly one answer and no "something went wrong"."""
    engine = create_engine(private_postgres.url)
    await upgrade_database(engine)
    sessionmaker, clock, bell, deliveries = (
        create_sessionmaker(engine),
        SystemClock(),
        DeliveryBell(),
        Deliveries(),
    )
    stores = sql_turn_store_factory(
        sessionmaker, clock, make_settings(tmp_path), core.responses, after_commit=bell.ring
    )
    handle = core.conversation(stores).handle
    failures: list[str] = []
    failed = asyncio.Event()

    async def counting_handle(inbound: InboundMessage) -> TurnResult:
        try:
            return await handle(inbound)
        except Exception as exc:
            failures.append(type(exc).__name__)
            if len(failures) >= 2:
                failed.set()
            raise

    try:
        async with running_outbox(sessionmaker, clock, deliveries, bell, first_retry=RETRY):
            channel = build_telegram_channel(telegram_settings(tmp_path, telegram_api), counting_handle, None)
            deliveries.register(channel)
            await channel.start()
            try:
                await private_postgres.stop()
                for update_id, chat in enumerate(CHATS, start=900):
                    telegram_api.queue_update(
                        telegram_api.message_update(chat, "/start", update_id=update_id)
                    )
                await asyncio.wait_for(failed.wait(), 30)
                await private_postgres.start()
                await telegram_api.wait_for_calls("sendMessage", len(CHATS), timeout=60)
            finally:
                await channel.stop()
    finally:
        await engine.dispose()
    for chat in CHATS:
        texts = [m["text"] for m in telegram_api.sent_messages(chat)]
        assert len(texts) == 1, texts
        assert "something went wrong" not in texts[0]
