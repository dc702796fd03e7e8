"""Escaping, splitting and keyboards for Telegram's HTML messages."""

from __future__ import annotations

import re

from bot.channels.telegram.formatting import (
    MESSAGE_LIMIT,
    choice_keyboard,
    chosen_reply,
    html_parts,
    telegram_length,
    to_html,
)
from bot.domain.channels import ChannelName
from bot.messages import OutboundMessage, QuickReply

_ENTITY_OR_TAG = re.compile(r"&(amp|lt|gt);|</?b>")


def outbound(text: str, reference: str | None = None) -> OutboundMessage:
    """A Telegram reply with ``text``."""
    return OutboundMessage(ChannelName.TELEGRAM, "1", text, ticket_reference=reference)


def test_text_is_escaped_and_the_reference_bold() -> None:
    """HTML special characters are escaped; only the ticket reference gets a tag."""
    html = to_html("<script>&</script> PRV-7K3Q-9M2D", "PRV-7K3Q-9M2D")
    assert html == "&lt;script&gt;&amp;&lt;/script&gt; <b>PRV-7K3Q-9M2D</b>"


def test_short_message_is_one_part() -> None:
    """A message under the limit is sent whole."""
    assert html_parts(outbound("Hello\n\nWorld")) == ["Hello\n\nWorld"]


def test_long_message_is_cut_between_paragraphs() -> None:
    """Paragraphs are kept whole when they fit."""
    paragraphs = [f"Paragraph {n}. " + "word " * 500 for n in range(4)]
    parts = html_parts(outbound("\n\n".join(p.strip() for p in paragraphs)))
    assert all(telegram_length(part) <= MESSAGE_LIMIT for part in parts)
    assert all(part.startswith("Paragraph") for part in parts)
    assert "\n\n".join(parts) == "\n\n".join(p.strip() for p in paragraphs)


def test_cuts_never_fall_inside_an_entity() -> None:
    """A text made of escaped characters is cut only between whole entities; nothing is lost."""
    text = "a&b<c>d " * 1200
    parts = html_parts(outbound(text))
    assert len(parts) > 1
    for part in parts:
        assert telegram_length(part) <= MESSAGE_LIMIT
        assert "&" not in _ENTITY_OR_TAG.sub("", part)  # every & starts a complete entity
    assert " ".join(parts) == to_html(text.strip())


def test_word_longer_than_the_limit_is_cut_hard() -> None:
    """A single 10 000-character word is still split into parts within the limit."""
    parts = html_parts(outbound("x" * 10_000))
    assert [len(part) for part in parts] == [4096, 4096, 1808]


def test_astral_characters_count_double() -> None:
    """Emoji outside the BMP count as two UTF-16 units, as Telegram counts them."""
    parts = html_parts(outbound("😀" * 3000))
    assert all(telegram_length(part) <= MESSAGE_LIMIT for part in parts)
    assert "".join(parts) == "😀" * 3000


def test_reference_is_never_split() -> None:
    """Cutting on word boundaries keeps the reference whole, so it is bold in its part."""
    text = "word " * 815 + "PRV-7K3Q-9M2D " + "word " * 100
    parts = html_parts(outbound(text, "PRV-7K3Q-9M2D"))
    assert sum("<b>PRV-7K3Q-9M2D</b>" in part for part in parts) == 1


def test_button_data_is_the_payload_and_the_label_is_read_back_from_the_keyboard() -> None:
    """Callback data is the quick reply's payload; the label (any length, any script) comes back from the
    keyboard the button was on, and a payload not on it resolves to nothing."""
    long_label = "Ä" * 100
    keyboard = choice_keyboard((QuickReply("affirm", "Bəli"), QuickReply("request_erasure", long_label)))
    assert keyboard is not None
    data = [row[0].callback_data for row in keyboard.inline_keyboard]
    assert data == ["affirm", "request_erasure"]
    assert chosen_reply("request_erasure", keyboard) == QuickReply("request_erasure", long_label)
    assert chosen_reply("deny", keyboard) is None
    assert chosen_reply("choice:0", keyboard) is None
    assert chosen_reply("affirm", None) is None
    assert choice_keyboard(()) is None
