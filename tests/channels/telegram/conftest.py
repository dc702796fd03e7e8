"""Fixtures for the Telegram channel: settings pointing aiogram at the local Bot API stand-in, a conversation,
and a running channel in polling mode."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.app import Core
from bot.channels.base import HandleInbound
from bot.channels.telegram import build_telegram_channel
from bot.conversation.engine import TurnResult
from bot.conversation.memory import MemoryTurnStore
from bot.deliveries import Channel
from bot.messages import InboundMessage
from bot.settings import Settings
from tests.support.core import make_settings
from tests.support.telegram_api import BOT_TOKEN, FakeTelegramAPI


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
            raise ConnectionError("database unavailable")
        return await self.handle(inbound)


@pytest.fixture
def memory_handle(core: Core) -> HandleInbound:
    """The real conversation over an in-memory store (no tickets)."""
    return core.conversation(MemoryTurnStore()).handle


@pytest_asyncio.fixture
async def polling_channel(
    tmp_path: Path, telegram_api: FakeTelegramAPI, memory_handle: HandleInbound
) -> AsyncIterator[Channel]:
    """A started channel in polling mode over the in-memory conversation; stopped afterwards."""
    channel = build_telegram_channel(telegram_settings(tmp_path, telegram_api), memory_handle, None)
    await channel.start()
    try:
        yield channel
    finally:
        await channel.stop()
