"""The webhook endpoint on the application's HTTP server: checks Telegram's secret header, feeds the update.

403 for a missing or wrong ``X-Telegram-Bot-Api-Secret-Token``, 400 for a body that is not an Update, 500 when
handling failed before the turn committed (so Telegram sends the update again), 200 otherwise.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError

from bot.http.json_body import InvalidJsonBody, read_json

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

WebHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def secret_matches(given: str | None, expected: str) -> bool:
    """Constant-time comparison of the header against the configured secret."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def webhook_handler(bot: Bot, dispatcher: Dispatcher, secret: str) -> WebHandler:
    """The aiohttp handler for ``POST /telegram/webhook``."""

    async def handle_webhook(request: web.Request) -> web.StreamResponse:
        if not secret_matches(request.headers.get(SECRET_HEADER), secret):
            log.warning("telegram webhook call with a wrong secret refused")
            return web.Response(status=403, text="Forbidden")
        try:
            update = Update.model_validate(await read_json(request), context={"bot": bot})
        except (InvalidJsonBody, ValueError, ValidationError):
            return web.Response(status=400, text="Bad Request")
        try:
            await dispatcher.feed_webhook_update(bot, update)
        except Exception:  # logged by aiogram; 500 asks Telegram to redeliver
            return web.Response(status=500, text="Update not handled")
        return web.Response(status=200)

    return handle_webhook


def mount_webhook(web_app: web.Application, bot: Bot, dispatcher: Dispatcher, secret: str) -> None:
    """Add the webhook route to the application's HTTP server (before it starts)."""
    web_app.router.add_post(WEBHOOK_PATH, webhook_handler(bot, dispatcher, secret))
