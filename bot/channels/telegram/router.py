"""Thin handlers: a Telegram update in, an InboundMessage to the conversation. The replies of its turn are
queued in the delivery outbox in the turn's own transaction and sent by the outbox's drain right after the
commit (retried while Telegram refuses): a handler sends none of them, so a failed sendMessage after the
commit is never lost and a redelivered update is never answered twice.

Services arrive by name from the Dispatcher's workflow data: ``handle`` (the conversation), ``responses``
(templates) and ``failed_updates``. Commands (/start, /help, /status, /cancel, /human) are passed through as
text; the conversation understands them. Every update's ``message_id`` is ``update:<update_id>``, so a
redelivered update is recognised by the conversation's store, which records it only when the turn commits.
What is said outside any turn (a photo, a group chat, a failed turn) is sent at once: nothing is stored.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from contextlib import suppress
from datetime import UTC, datetime

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import CallbackQuery, ErrorEvent, Message, Update

from bot.channels.base import HandleInbound
from bot.channels.telegram.delivery import send_outbound
from bot.channels.telegram.formatting import chosen_reply
from bot.domain.channels import ChannelName
from bot.messages import InboundMessage, OutboundMessage
from bot.store.db import store_unavailable
from responses import Responses

log = logging.getLogger(__name__)

_GROUP_CHATS = (ChatType.GROUP, ChatType.SUPERGROUP)


def update_key(update_id: int) -> str:
    """The InboundMessage.message_id of a Telegram update: the same for every redelivery of it."""
    return f"update:{update_id}"


def inbound_message(
    chat_id: int,
    text: str,
    update_id: int,
    received_at: datetime | None = None,
    payload: str | None = None,
) -> InboundMessage:
    """What a person wrote (or chose: ``payload`` is the button's id) in the private chat ``chat_id``."""
    return InboundMessage(
        channel=ChannelName.TELEGRAM,
        sender_id=str(chat_id),
        text=text,
        received_at=received_at or datetime.now(UTC),
        message_id=update_key(update_id),
        payload=payload,
    )


async def say(bot: Bot, chat_id: int, responses: Responses, template: str, **values: object) -> None:
    """Send the rendered template to ``chat_id`` (escaped and split like every reply)."""
    text = responses.render(template, **values)
    await send_outbound(bot, OutboundMessage(ChannelName.TELEGRAM, str(chat_id), text))


class FailedUpdates:
    """Update ids whose failure the person was already told about (so a redelivery doesn't repeat it)."""

    def __init__(self, size: int = 1024) -> None:
        self._ids: OrderedDict[int, None] = OrderedDict()
        self._size = size

    def first_failure(self, update_id: int) -> bool:
        """True the first time ``update_id`` fails; remembers the last ``size`` ids."""
        if update_id in self._ids:
            return False
        self._ids[update_id] = None
        if len(self._ids) > self._size:
            self._ids.popitem(last=False)
        return True


async def text_message_handler(message: Message, event_update: Update, handle: HandleInbound) -> None:
    """A text (or command) in a private chat: one conversation turn (the outbox sends its replies)."""
    assert message.text is not None  # guaranteed by the F.text filter
    await handle(inbound_message(message.chat.id, message.text, event_update.update_id, message.date))


async def unsupported_content_handler(message: Message, bot: Bot, responses: Responses) -> None:
    """A photo, voice message, sticker, file... in a private chat: say what the bot can read."""
    await say(
        bot,
        message.chat.id,
        responses,
        "telegram/unsupported_content.txt.j2",
        kind=message.content_type,
        has_caption=bool(message.caption),
    )


async def group_message_handler(message: Message, bot: Bot, responses: Responses) -> None:
    """Anything written in a group: ask the person to write privately; nothing reaches the conversation."""
    me = await bot.me()
    await say(bot, message.chat.id, responses, "telegram/write_privately.txt.j2", username=me.username)


async def choice_handler(
    query: CallbackQuery, event_update: Update, handle: HandleInbound, responses: Responses
) -> None:
    """A pressed inline-keyboard button: answered at once; its payload (the callback data) goes to the
    conversation, with its label as the text stored (the outbox sends the turn's replies)."""
    message = query.message
    if not isinstance(message, Message) or message.chat.type != ChatType.PRIVATE:
        await query.answer()
        return
    choice = chosen_reply(query.data, message.reply_markup)
    if choice is None:
        await query.answer(text=responses.render("telegram/choice_expired.txt.j2"))
        return
    await query.answer()
    inbound = inbound_message(message.chat.id, choice.label, event_update.update_id, payload=choice.payload)
    result = await handle(inbound)
    if result.duplicate:  # a redelivered update was answered when it first came
        return
    with suppress(TelegramBadRequest):  # already removed, or too old to edit: nothing to do
        await message.edit_reply_markup(reply_markup=None)


async def error_handler(
    event: ErrorEvent, bot: Bot, responses: Responses, failed_updates: FailedUpdates
) -> bool:
    """The one place where a failed update becomes a message for the person.

    A failure to talk to Telegram (a notice outside any turn, removing a keyboard) is logged and dropped:
    the turn, if any, was stored and its replies wait in the outbox. Any other failure happened before the
    turn committed: the person is told once, and the exception propagates so that Telegram redelivers the
    update (webhook answers 500). A database outage is not told at all (the turn may even have committed
    just before the connection was cut, and its answer is on its way): the update is redelivered and
    answered once.
    """
    update = event.update
    error = event.exception
    log.error("telegram update %s failed: %s", update.update_id, type(error).__name__)
    if isinstance(error, TelegramAPIError):
        return True
    if store_unavailable(error):  # nothing is wrong with the message: Telegram redelivers it, no apology
        raise error
    chat_id = _private_chat(update)
    if chat_id is not None and failed_updates.first_failure(update.update_id):
        try:
            await say(bot, chat_id, responses, "telegram/error.txt.j2")
        except TelegramAPIError as send_error:
            log.warning("could not tell the person about the failure: %s", type(send_error).__name__)
    raise error


def _private_chat(update: Update) -> int | None:
    """The private chat an update came from, if any."""
    message = update.message
    query = update.callback_query
    if message is None and query is not None and isinstance(query.message, Message):
        message = query.message
    if message is None or message.chat.type != ChatType.PRIVATE:
        return None
    return message.chat.id


def build_router() -> Router:
    """A fresh router with the Telegram handlers (built per Dispatcher; nothing is built at import time)."""
    router = Router(name="telegram")
    router.message.register(group_message_handler, F.chat.type.in_(_GROUP_CHATS), F.text | F.caption)
    router.message.register(text_message_handler, F.chat.type == ChatType.PRIVATE, F.text)
    router.message.register(unsupported_content_handler, F.chat.type == ChatType.PRIVATE)
    router.callback_query.register(choice_handler)
    return router
