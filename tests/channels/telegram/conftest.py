"""Fixtures for the Telegram channel: settings pointing aiogram at the local Bot API stand-in, the real
conversation on SQLite with the delivery outbox that sends its replies (as `privacybot run` wires them), and
a running channel in polling mode."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest_asyncio

from bot.app import Core
from bot.channels.base import HandleInbound
from bot.channels.telegram import build_telegram_channel
from bot.conversation.engine import TurnResult
from bot.deliveries import Channel, Deliveries, DeliveryBell
from bot.domain.clock import SystemClock
from bot.messages import InboundMessage
from bot.officer.outbox import DeliveryOutbox
from bot.settings import Settings
from bot.store.db import create_engine, create_sessionmaker
from bot.store.migrate import upgrade_database
from bot.tickets.desk import sql_turn_store_factory
from tests.support.core import make_settings
from tests.support.outbox import running_outbox
from tests.support.telegram_api import BOT_TOKEN, FakeTelegramAPI

RETRY = timedelta(
    milliseconds=200
)  # the outbox's first retry after a refused send (about 1 s, doubling, when running)


def telegram_settings(data_dir: Path, api: FakeTelegramAPI, **overrides: object) -> Settings:
    """Test settings whose Telegram token and API base point at the stand-in server ``api``."""
    return make_settings(data_dir, telegram_token=BOT_TOKEN, telegram_api_base=api.base_url, **overrides)


class FailingFirst:
    """The conversation, except that its first ``failures`` turns crash before anything is stored."""

    def __init__(self, handle: HandleInbound, failures: int = 1) -> None:
        """Wrap ``handle``."""
        self.handle = handle
        self.failures = failures

    async def __call__(self, inbound: InboundMessage) -> TurnResult:
        """Raise while failures remain, then pass through."""
        if self.failures:
            self.failures -= 1
            raise RuntimeError("a bug, before anything is stored")  # not an outage: those are waited out
        return await self.handle(inbound)


@dataclass
class Turns:
    """The conversation a channel hands its updates to, and the outbox that sends the replies: build a
    channel over ``handle``, then :meth:`serve` it (the outbox delivers through the channel last served)."""

    handle: HandleInbound
    deliveries: Deliveries
    outbox: DeliveryOutbox

    def serve(self, channel: Channel) -> Channel:
        """Route deliveries through ``channel``; returns it."""
        self.deliveries.register(channel)
        return channel


@contextlib.asynccontextmanager
async def open_turns(
    core: Core, tmp_path: Path, *, interval_seconds: float = 0.5, first_retry: timedelta | None = RETRY
) -> AsyncIterator[Turns]:
    """The real conversation on a fresh SQLite database with its delivery outbox running, draining every
    ``interval_seconds`` and on the turns' bell (``first_retry`` None: the outbox's own retry timing)."""
    engine = create_engine(f"sqlite:///{tmp_path / 'telegram.sqlite3'}")
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
    try:
        async with running_outbox(
            sessionmaker, clock, deliveries, bell, first_retry=first_retry, interval_seconds=interval_seconds
        ) as outbox:
            yield Turns(core.conversation(stores).handle, deliveries, outbox)
    finally:
        await engine.dispose()


@pytest_asyncio.fixture
async def turns(core: Core, tmp_path: Path) -> AsyncIterator[Turns]:
    """The real conversation on a fresh SQLite database with its delivery outbox running (retrying a
    refused send after 0.2 s)."""
    async with open_turns(core, tmp_path) as turns:
        yield turns


@pytest_asyncio.fixture
async def polling_channel(
    tmp_path: Path, telegram_api: FakeTelegramAPI, turns: Turns
) -> AsyncIterator[Channel]:
    """A started channel in polling mode over the conversation; stopped afterwards."""
    channel = turns.serve(
        build_telegram_channel(telegram_settings(tmp_path, telegram_api), turns.handle, None)
    )
    await channel.start()
    try:
        yield channel
    finally:
        await channel.stop()
