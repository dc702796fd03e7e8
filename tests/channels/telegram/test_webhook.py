"""Webhook mode: the update endpoint on the application's HTTP server, guarded by Telegram's secret header."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest_asyncio
from aiohttp import web

from bot.channels.base import HandleInbound
from bot.channels.telegram import WEBHOOK_PATH, build_telegram_channel
from bot.deliveries import Channel
from tests.channels.telegram.conftest import FailingFirst, Turns, telegram_settings
from tests.support.outbox import drained
from tests.support.telegram_api import FakeTelegramAPI

CHAT = 777
SECRET = "webhook-secret-Xy12"
PUBLIC_URL = "https://bot.zynorlink.example/telegram/webhook"


@dataclass
class WebhookBot:
    """A channel in webhook mode mounted on a served aiohttp application."""

    channel: Channel
    url: str

    async def post(self, update: dict[str, Any], secret: str | None = SECRET) -> int:
        """POST ``update`` to the webhook as Telegram would; returns the HTTP status."""
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        async with aiohttp.ClientSession() as client:
            async with client.post(self.url, json=update, headers=headers) as response:
                return response.status


async def serve_webhook(
    tmp_path: Path, api: FakeTelegramAPI, turns: Turns, handle: HandleInbound | None = None
) -> tuple[WebhookBot, web.AppRunner]:
    """Build the channel (over ``handle``, default the conversation) on a fresh application, serve it on a
    free port and start the channel; the outbox delivers through it."""
    app = web.Application()
    settings = telegram_settings(
        tmp_path,
        api,
        telegram_mode="webhook",
        telegram_webhook_url=PUBLIC_URL,
        telegram_webhook_secret=SECRET,
    )
    channel = turns.serve(build_telegram_channel(settings, handle or turns.handle, app))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    await channel.start()
    return WebhookBot(channel, f"http://127.0.0.1:{sock.getsockname()[1]}{WEBHOOK_PATH}"), runner


@pytest_asyncio.fixture
async def webhook_bot(
    tmp_path: Path, telegram_api: FakeTelegramAPI, turns: Turns
) -> AsyncIterator[WebhookBot]:
    """A webhook-mode channel over the conversation."""
    bot, runner = await serve_webhook(tmp_path, telegram_api, turns)
    try:
        yield bot
    finally:
        await bot.channel.stop()
        await runner.cleanup()


async def test_start_registers_the_webhook_with_its_secret(
    webhook_bot: WebhookBot, telegram_api: FakeTelegramAPI
) -> None:
    """start() calls setWebhook with the public URL and the secret token, and never polls."""
    [call] = telegram_api.calls_of("setWebhook")
    assert call.params["url"] == PUBLIC_URL
    assert call.params["secret_token"] == SECRET
    assert not telegram_api.calls_of("getUpdates")


async def test_update_with_the_right_secret_is_answered(
    webhook_bot: WebhookBot, telegram_api: FakeTelegramAPI
) -> None:
    """An update carrying the right secret header is handled and answered."""
    status = await webhook_bot.post(telegram_api.message_update(CHAT, "/start"))
    assert status == 200
    await telegram_api.wait_for_calls("sendMessage")
    assert "privacy assistant" in telegram_api.sent_messages(CHAT)[0]["text"]


async def test_wrong_or_missing_secret_is_refused(
    webhook_bot: WebhookBot, telegram_api: FakeTelegramAPI
) -> None:
    """A wrong or missing secret header gets 403 and nothing reaches the conversation."""
    assert await webhook_bot.post(telegram_api.message_update(CHAT, "/start"), secret="guess") == 403
    assert await webhook_bot.post(telegram_api.message_update(CHAT, "/start"), secret=None) == 403
    assert telegram_api.sent_messages() == []


async def test_duplicate_update_is_answered_once(
    webhook_bot: WebhookBot, telegram_api: FakeTelegramAPI, turns: Turns
) -> None:
    """Telegram delivering the same update twice produces one reply."""
    update = telegram_api.message_update(CHAT, "/help")
    assert await webhook_bot.post(update) == 200
    assert await webhook_bot.post(update) == 200
    await drained(turns.outbox)
    assert len(telegram_api.sent_messages(CHAT)) == 1


async def test_telegram_reply_survives_send_failure_after_commit(
    webhook_bot: WebhookBot, telegram_api: FakeTelegramAPI, turns: Turns
) -> None:
    """Regression: when sendMessage failed after the turn committed, the webhook still answered 200 and the
    redelivered update was a duplicate, so the reply was never sent. The reply waits in the outbox and
    arrives on the retry, once; the redelivery sends nothing more."""
    telegram_api.fail("sendMessage")
    update = telegram_api.message_update(CHAT, "/help")
    assert await webhook_bot.post(update) == 200
    refused, sent = await telegram_api.wait_for_calls("sendMessage", 2)
    assert (refused.status, sent.status) == (500, 200)
    assert await webhook_bot.post(update) == 200  # Telegram sending it again changes nothing
    await drained(turns.outbox)
    [reply] = telegram_api.sent_messages(CHAT)
    assert "privacy assistant" in reply["text"]


async def test_crashed_update_is_redelivered_and_then_answered(
    tmp_path: Path, telegram_api: FakeTelegramAPI, turns: Turns
) -> None:
    """A turn that crashes gets 500 (so Telegram redelivers) and one apology; the redelivery is answered."""
    bot, runner = await serve_webhook(tmp_path, telegram_api, turns, FailingFirst(turns.handle, failures=2))
    try:
        update = telegram_api.message_update(CHAT, "/start")
        assert await bot.post(update) == 500
        assert await bot.post(update) == 500
        assert await bot.post(update) == 200
        await telegram_api.wait_for_calls("sendMessage", 2)
    finally:
        await bot.channel.stop()
        await runner.cleanup()
    texts = [m["text"] for m in telegram_api.sent_messages(CHAT)]
    assert len(texts) == 2
    assert "something went wrong" in texts[0]
    assert "privacy assistant" in texts[1]


async def test_deeply_nested_update_was_a_500(webhook_bot: WebhookBot) -> None:
    """Regression: a 5,000-deep nested body raised RecursionError in the JSON decoder (500, which asks
    Telegram to redeliver it forever). It is a 400."""
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
    async with aiohttp.ClientSession() as client:
        async with client.post(webhook_bot.url, data=b"[" * 5000 + b"]" * 5000, headers=headers) as response:
            assert response.status == 400
