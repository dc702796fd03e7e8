"""Sending OutboundMessages to Telegram: what the delivery outbox hands the channel (a turn's replies, an
officer's reply) and the notices said outside any turn.

``recipient_id`` of a Telegram OutboundMessage is the chat id.
"""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramAPIError, TelegramRetryAfter
from aiogram.types import LinkPreviewOptions

from bot.channels.telegram.formatting import choice_keyboard, html_parts
from bot.domain.channels import ChannelName
from bot.domain.errors import DeliveryFailed
from bot.messages import OutboundMessage

log = logging.getLogger(__name__)

_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


async def send_outbound(bot: Bot, message: OutboundMessage) -> None:
    """Send ``message`` as HTML, split to fit, with its choices as an inline keyboard on the last part."""
    parts = html_parts(message)
    keyboard = choice_keyboard(message.quick_replies)
    for number, part in enumerate(parts, start=1):
        await bot.send_message(
            chat_id=int(message.recipient_id),
            text=part,
            parse_mode=ParseMode.HTML,
            link_preview_options=_NO_PREVIEW,
            reply_markup=keyboard if number == len(parts) else None,
        )


async def deliver(bot: Bot, message: OutboundMessage) -> None:
    """Send a message out of the delivery outbox (a turn's reply, an officer's answer). Raises
    DeliveryFailed."""
    if message.channel is not ChannelName.TELEGRAM:
        raise DeliveryFailed(message.channel, "not a Telegram message")
    if not message.recipient_id.lstrip("-").isdigit():
        raise DeliveryFailed(ChannelName.TELEGRAM, "recipient is not a chat id")
    try:
        await send_outbound(bot, message)
    except TelegramAPIError as error:
        log.warning("telegram delivery failed: %s", type(error).__name__)
        wait = float(error.retry_after) if isinstance(error, TelegramRetryAfter) else None
        raise DeliveryFailed(ChannelName.TELEGRAM, type(error).__name__, retry_after=wait) from error
