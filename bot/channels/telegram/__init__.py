"""The Telegram channel (aiogram 3): private chats with the assistant, by long polling or a webhook.

``build_telegram_channel`` is the only thing the wiring point calls.
"""

from __future__ import annotations

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from aiohttp import web

from bot.channels.base import HandleInbound, waiting_out_outages
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.flood import WaitOutFloodControl
from bot.channels.telegram.router import FailedUpdates, build_router, error_handler
from bot.channels.telegram.webhook import WEBHOOK_PATH, mount_webhook
from bot.settings import Settings, TelegramMode
from responses import Responses

__all__ = ["WEBHOOK_PATH", "TelegramChannel", "TelegramNotConfigured", "build_telegram_channel"]


class TelegramNotConfigured(ValueError):
    """A setting Telegram needs is missing."""

    def __init__(self, setting: str) -> None:
        super().__init__(f"Telegram needs PRIVACYBOT_{setting.upper()}")
        self.setting = setting


def build_telegram_channel(
    settings: Settings,
    handle: HandleInbound,
    web_app: web.Application | None,
    *,
    responses: Responses | None = None,
) -> TelegramChannel:
    """Build the bot, its Dispatcher and router; in webhook mode mount ``/telegram/webhook`` on ``web_app``.

    Nothing talks to Telegram until the channel's ``start()``.
    """
    if settings.telegram_token is None:
        raise TelegramNotConfigured("telegram_token")
    responses = responses or Responses()
    base = settings.telegram_api_base
    api = TelegramAPIServer.from_base(base) if base else PRODUCTION
    session = AiohttpSession(api=api)
    session.middleware(WaitOutFloodControl())
    bot = Bot(token=settings.telegram_token.get_secret_value(), session=session)
    if settings.telegram_mode is TelegramMode.POLLING:  # an update is confirmed only after its turn is stored
        handle = waiting_out_outages(handle)
    dispatcher = Dispatcher(handle=handle, responses=responses, failed_updates=FailedUpdates())
    dispatcher.include_router(build_router())
    dispatcher.errors.register(error_handler)
    secret: str | None = None
    if settings.telegram_mode is TelegramMode.WEBHOOK:
        if not settings.telegram_webhook_url:
            raise TelegramNotConfigured("telegram_webhook_url")
        if settings.telegram_webhook_secret is None:
            raise TelegramNotConfigured("telegram_webhook_secret")
        if web_app is None:
            raise TelegramNotConfigured("web_port")  # webhook mode needs the application's HTTP server
        secret = settings.telegram_webhook_secret.get_secret_value()
        mount_webhook(web_app, bot, dispatcher, secret)
    return TelegramChannel(
        bot=bot,
        dispatcher=dispatcher,
        responses=responses,
        mode=settings.telegram_mode,
        webhook_url=settings.telegram_webhook_url,
        webhook_secret=secret,
    )
