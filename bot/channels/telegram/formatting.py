"""Plain-text replies to Telegram HTML: escaping, bold ticket references, 4096-char splitting, keyboards.

Splitting works on the plain text and formats each part on its own, so a part never ends inside an HTML
entity or tag. A keyboard button's callback data is its quick reply's payload (an intent or action id such as
``request_erasure``, well within Telegram's 64 bytes); its label is read back from the keyboard of the message
the button was pressed on.
"""

from __future__ import annotations

import html
from collections.abc import Callable

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.messages import OutboundMessage, QuickReply

# Telegram's limit on one message's text, counted (conservatively) on the HTML source in UTF-16 code units.
MESSAGE_LIMIT = 4096
# Telegram refuses callback data longer than this many bytes.
CALLBACK_LIMIT = 64
# Where to cut a text that is too long, most preferred first.
_BREAKS = ("\n\n", "\n", " ")


def telegram_length(text: str) -> int:
    """The length Telegram counts: UTF-16 code units (an emoji outside the BMP counts two)."""
    return len(text.encode("utf-16-le")) // 2


def to_html(text: str, ticket_reference: str | None = None) -> str:
    """Escape plain ``text`` for parse_mode HTML and make the ticket reference bold."""
    escaped = html.escape(text, quote=False)
    if ticket_reference:
        reference = html.escape(ticket_reference, quote=False)
        escaped = escaped.replace(reference, f"<b>{reference}</b>")
    return escaped


def split_text(text: str, fits: Callable[[str], bool]) -> list[str]:
    """Cut plain ``text`` into parts that each ``fits``, on paragraph, line or word boundaries if possible."""
    parts: list[str] = []
    rest = text.strip()
    while rest and not fits(rest):
        cut = _longest_fitting_prefix(rest, fits)
        head = rest[:cut]
        for mark in _BREAKS:
            at = head.rfind(mark)
            if at > 0 and (mark == " " or at >= cut // 2):  # a paragraph break, unless it leaves a stub
                cut = at
                break
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].strip()
    if rest:
        parts.append(rest)
    return parts


def _longest_fitting_prefix(text: str, fits: Callable[[str], bool]) -> int:
    """The largest n (at least 1) such that ``text[:n]`` fits; formatting grows with the prefix."""
    low, high = 1, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if fits(text[:middle]):
            low = middle
        else:
            high = middle - 1
    return low


def html_parts(message: OutboundMessage, limit: int = MESSAGE_LIMIT) -> list[str]:
    """The message as one or more HTML texts, each within Telegram's limit."""

    def fits(part: str) -> bool:
        return telegram_length(to_html(part, message.ticket_reference)) <= limit

    return [to_html(part, message.ticket_reference) for part in split_text(message.text, fits)]


def choice_keyboard(choices: tuple[QuickReply, ...]) -> InlineKeyboardMarkup | None:
    """One button per quick reply, its label as text and its payload as callback data; None when there is
    nothing to choose."""
    if not choices:
        return None
    rows = [
        [InlineKeyboardButton(text=choice.label, callback_data=choice.payload)]
        for choice in choices
        if len(choice.payload.encode()) <= CALLBACK_LIMIT
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def chosen_reply(data: str | None, keyboard: InlineKeyboardMarkup | None) -> QuickReply | None:
    """The quick reply whose button (callback ``data``) is on ``keyboard``, or None if it is not there."""
    if not data or keyboard is None:
        return None
    for row in keyboard.inline_keyboard:
        for button in row:
            if button.callback_data == data:
                return QuickReply(payload=data, label=button.text)
    return None
