"""The officer workspace inside the running application (bot/runner.py): the dashboard and API are served,
the OpenAPI document lists them, and a ticket opened on Telegram is announced in the officer chat."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from bot.runner import start_application
from tests.support.core import make_settings
from tests.support.mail_servers import free_port
from tests.support.telegram_api import BOT_TOKEN, FakeTelegramAPI

OFFICER_CHAT = -100900


async def test_running_application_serves_the_workspace_and_notifies_the_officer_chat(
    tmp_path: Path, telegram_api: FakeTelegramAPI
) -> None:
    """With Telegram and an officer chat configured, /officer/login answers, /api/openapi.json has the
    officer paths, and /human from a Telegram user is posted to the officer chat with a Take button."""
    port = free_port()
    settings = make_settings(
        tmp_path,
        web_port=port,
        telegram_token=BOT_TOKEN,
        telegram_api_base=telegram_api.base_url,
        officer_telegram_chat_id=OFFICER_CHAT,
    )
    running = await start_application(settings)
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/officer/login") as response:
                assert response.status == 200 and "Sign in" in await response.text()
            async with http.get(f"http://127.0.0.1:{port}/api/openapi.json") as response:
                assert "/api/officer/tickets" in (await response.json())["paths"]
        telegram_api.queue_update(telegram_api.message_update(321, "/human"))
        sends = 1
        while not telegram_api.sent_messages(OFFICER_CHAT):  # the feed polls every few seconds
            await telegram_api.wait_for_calls("sendMessage", sends, timeout=20)
            sends += 1
        button = telegram_api.sent_messages(OFFICER_CHAT)[0]["reply_markup"]["inline_keyboard"][0][0]
        assert button["callback_data"].startswith("officer:take:PRV-")
    finally:
        await running.stop()
