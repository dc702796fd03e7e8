"""The officer's Telegram chat, on the Telegram channel's own bot: notifications with Open / Take / End
handoff buttons, and the officer's answers — replying to a notification answers the requester.

This module only needs an aiogram ``Bot`` and the ``Dispatcher`` (a router) the channel runs; the wiring
point passes them in, so the officer code never imports the Telegram channel. Handlers are registered on the
dispatcher itself, ahead of the channel's router, and only for the configured officer chat.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from aiogram import Bot, Dispatcher, F
from aiogram.exceptions import TelegramAPIError
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    User,
)

from bot.domain.errors import OfficerError, TicketError
from bot.officer.notifications import END_ACTION, TAKE_ACTION, ChatButton
from bot.sla.notifier import NotificationFailed
from bot.tickets.service import TicketService
from responses import Responses

log = logging.getLogger(__name__)

FEEDBACK_TEMPLATE = "officer/chat_feedback.txt.j2"
_REFERENCE = re.compile(r"\bPRV-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}\b")
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


class AiogramOfficerChat:
    """Posts officer notifications to one Telegram chat (implements ``OfficerChat``)."""

    def __init__(self, bot: Bot, chat_id: int) -> None:
        """Post through ``bot`` to ``chat_id``."""
        self._bot = bot
        self._chat_id = chat_id

    async def post(self, text: str, buttons: Sequence[ChatButton]) -> None:
        """Send ``text`` as plain text with ``buttons`` in one row. Raises NotificationFailed."""
        markup = (
            InlineKeyboardMarkup(
                inline_keyboard=[
                    [
                        InlineKeyboardButton(text=b.label, url=b.url)
                        if b.url
                        else InlineKeyboardButton(text=b.label, callback_data=b.action)
                        for b in buttons
                    ]
                ]
            )
            if buttons
            else None
        )
        try:
            await self._bot.send_message(
                chat_id=self._chat_id, text=text, reply_markup=markup, link_preview_options=_NO_PREVIEW
            )
        except TelegramAPIError as exc:
            raise NotificationFailed(f"telegram: {type(exc).__name__}") from exc


def notification_reference(message: Message) -> str | None:
    """The ticket a notification is about: its Take button's data, else the reference on its first line."""
    markup = message.reply_markup
    if markup is not None:
        for row in markup.inline_keyboard:
            for button in row:
                data = button.callback_data or ""
                if data.startswith(TAKE_ACTION):
                    return data.removeprefix(TAKE_ACTION)
    first_line = (message.text or "").split("\n", 1)[0]
    found = _REFERENCE.search(first_line)
    return found.group(0) if found else None


def actor_of(user: User | None) -> tuple[str, str]:
    """The audit actor (``telegram:<id>``) and the name a ticket is assigned to."""
    if user is None:
        return "telegram:unknown", "officer (Telegram)"
    name = f"@{user.username}" if user.username else user.full_name
    return f"telegram:{user.id}", name


async def officer_reply_handler(
    message: Message, bot: Bot, officer_desk: TicketService, officer_responses: Responses
) -> None:
    """A reply to one of our notifications: its text goes to the requester of that ticket."""
    original = message.reply_to_message
    reference = notification_reference(original) if original is not None else None
    if (
        reference is None
        or original is None
        or original.from_user is None
        or original.from_user.id != bot.id
        or not message.text
    ):
        await message.reply(officer_responses.render(FEEDBACK_TEMPLATE, outcome="how_to_reply"))
        return
    actor, _ = actor_of(message.from_user)
    try:
        sent = await officer_desk.reply(reference, message.text, officer=actor)
    except (TicketError, OfficerError) as exc:
        await message.reply(_explain(officer_responses, exc))
        return
    outcome = "reply_sent" if sent.delivered else "reply_queued"
    await message.reply(officer_responses.render(FEEDBACK_TEMPLATE, outcome=outcome, reference=reference))


async def officer_chat_other_handler(message: Message) -> None:
    """Anything else written in the officer chat is the officers' own talk: the assistant stays silent."""


async def officer_action_handler(
    query: CallbackQuery, officer_desk: TicketService, officer_responses: Responses
) -> None:
    """Take (assign to the presser) or End handoff, pressed under a notification."""
    data = query.data or ""
    actor, name = actor_of(query.from_user)
    try:
        if data.startswith(TAKE_ACTION):
            reference = data.removeprefix(TAKE_ACTION)
            await officer_desk.take(reference, officer=actor, assignee=name)
            text = officer_responses.render(
                FEEDBACK_TEMPLATE, outcome="taken", reference=reference, name=name
            )
        elif data.startswith(END_ACTION):
            reference = data.removeprefix(END_ACTION)
            await officer_desk.end_handoff(reference, officer=actor)
            text = officer_responses.render(FEEDBACK_TEMPLATE, outcome="handoff_ended", reference=reference)
        else:
            text = officer_responses.render(FEEDBACK_TEMPLATE, outcome="unknown_action")
    except (TicketError, OfficerError) as exc:
        text = _explain(officer_responses, exc)
    await query.answer(text=text[:200])
    if isinstance(query.message, Message):
        try:
            await query.message.reply(text)
        except TelegramAPIError as exc:
            log.warning("officer chat feedback failed: %s", type(exc).__name__)


def _explain(responses: Responses, error: Exception) -> str:
    """The one place a refused officer action becomes a sentence in the officer chat."""
    return responses.render(
        FEEDBACK_TEMPLATE,
        outcome="refused",
        error=type(error).__name__,
        reference=getattr(error, "reference", None),
    )


def register_officer_chat(
    dispatcher: Dispatcher, *, chat_id: int, desk: TicketService, responses: Responses
) -> None:
    """Handle the officer chat on ``dispatcher`` itself, so these run before the channel's own router."""
    dispatcher["officer_desk"] = desk
    dispatcher["officer_responses"] = responses
    in_chat = F.chat.id == chat_id
    dispatcher.message.register(officer_reply_handler, in_chat, F.reply_to_message)
    dispatcher.message.register(officer_chat_other_handler, in_chat)
    dispatcher.callback_query.register(
        officer_action_handler, F.message.chat.id == chat_id, F.data.startswith("officer:")
    )
