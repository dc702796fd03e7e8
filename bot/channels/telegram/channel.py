"""The running Telegram channel: long polling in a background task, or a webhook registered with Telegram."""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot, Dispatcher
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats

from bot.channels.telegram.delivery import deliver
from bot.domain.channels import ChannelName
from bot.messages import OutboundMessage
from bot.settings import TelegramMode
from responses import DEFAULT_LANGUAGE, LANGUAGES, Responses

log = logging.getLogger(__name__)


def command_menu(responses: Responses, lang: str = DEFAULT_LANGUAGE) -> list[BotCommand]:
    """The bot's command menu in ``lang``, one ``command description`` line each in the template."""
    lines = responses.render_in(lang, "telegram/command_menu.txt.j2").splitlines()
    pairs = (line.strip().partition(" ") for line in lines if line.strip())
    return [BotCommand(command=command, description=description.strip()) for command, _, description in pairs]


class TelegramChannel:
    """Receives updates (polling or webhook) and delivers later messages to a chat."""

    name = ChannelName.TELEGRAM

    def __init__(
        self,
        *,
        bot: Bot,
        dispatcher: Dispatcher,
        responses: Responses,
        mode: TelegramMode,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
    ) -> None:
        self.bot = bot
        self.dispatcher = dispatcher
        self.responses = responses
        self.mode = mode
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self._polling: asyncio.Task[None] | None = None
        self._polling_started = asyncio.Event()
        dispatcher.startup.register(self._polling_started.set)

    async def start(self) -> None:
        """Register the command menus (English by default, Azerbaijani and Russian by the app's
        language), then start polling or register the webhook. Returns once running."""
        scope = BotCommandScopeAllPrivateChats()
        await self.bot.set_my_commands(command_menu(self.responses), scope=scope)
        for lang in LANGUAGES:  # Telegram shows people whose app is set to az or ru their own menu
            if lang != DEFAULT_LANGUAGE:
                await self.bot.set_my_commands(
                    command_menu(self.responses, lang), scope=scope, language_code=lang
                )
        allowed = self.dispatcher.resolve_used_update_types()
        if self.mode is TelegramMode.WEBHOOK:
            assert self.webhook_url is not None  # checked by build_telegram_channel
            await self.bot.set_webhook(
                url=self.webhook_url, secret_token=self.webhook_secret, allowed_updates=allowed
            )
            log.info("telegram webhook registered")
            return
        await self.bot.delete_webhook(drop_pending_updates=False)
        self._polling_started.clear()
        # One update at a time: a person's messages are handled in order, and an update is confirmed to
        # Telegram (next getUpdates offset) only after its turn finished.
        self._polling = asyncio.create_task(
            self.dispatcher.start_polling(
                self.bot,
                handle_as_tasks=False,
                handle_signals=False,
                close_bot_session=False,
                allowed_updates=allowed,
            ),
            name="telegram-polling",
        )
        self._polling.add_done_callback(_log_polling_end)
        started = asyncio.create_task(self._polling_started.wait())
        await asyncio.wait((started, self._polling), return_when=asyncio.FIRST_COMPLETED)
        started.cancel()
        if self._polling.done():
            self._polling.result()  # polling failed to start: raise its error here
        log.info("telegram polling started")

    async def stop(self) -> None:
        """Stop polling (an unfinished turn rolls back and is redelivered later); close the HTTP session."""
        try:
            if self._polling is not None and not self._polling.done():
                await self.dispatcher.stop_polling()
                await self._polling
        finally:
            self._polling = None
            await self.bot.session.close()

    async def deliver(self, message: OutboundMessage) -> None:
        """Send what the delivery outbox hands over (a turn's reply, an officer's reply, a status update)
        to the chat ``message.recipient_id``."""
        await deliver(self.bot, message)


def _log_polling_end(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("telegram polling stopped: %s", type(task.exception()).__name__)
