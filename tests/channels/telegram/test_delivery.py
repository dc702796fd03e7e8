"""Delivering later messages (officer replies) to a Telegram chat."""

from __future__ import annotations

import pytest

from bot.deliveries import Channel
from bot.domain.channels import ChannelName
from bot.domain.errors import DeliveryFailed
from bot.messages import OutboundMessage, QuickReply
from tests.support.telegram_api import FakeTelegramAPI

CHAT = 4242


async def test_long_reply_is_split_under_the_limit(
    polling_channel: Channel, telegram_api: FakeTelegramAPI
) -> None:
    """A 9000-character reply arrives as several messages of at most 4096 characters, cut between paragraphs,
    escaped, with the keyboard on the last part only."""
    paragraph = ("Terms & <conditions> apply. " * 70).strip()
    text = "\n\n".join([paragraph] * 5)
    message = OutboundMessage(
        ChannelName.TELEGRAM, str(CHAT), text, quick_replies=(QuickReply("affirm", "OK"),)
    )
    await polling_channel.deliver(message)
    parts = [m["text"] for m in telegram_api.sent_messages(CHAT)]
    calls = telegram_api.calls_of("sendMessage")
    assert len(parts) > 1
    assert all(len(call.params["text"]) <= 4096 for call in calls)
    assert all(call.params["text"].startswith("Terms &amp; &lt;conditions&gt;") for call in calls)
    assert all(call.params["text"].endswith("apply.") for call in calls)
    assert [bool(call.params.get("reply_markup")) for call in calls] == [False] * (len(calls) - 1) + [True]


async def test_ticket_reference_is_bold(polling_channel: Channel, telegram_api: FakeTelegramAPI) -> None:
    """The ticket reference in a delivered message is bold; the rest is escaped text."""
    message = OutboundMessage(
        ChannelName.TELEGRAM, str(CHAT), "Update on PRV-7K3Q-9M2D: <done>", ticket_reference="PRV-7K3Q-9M2D"
    )
    await polling_channel.deliver(message)
    [call] = telegram_api.calls_of("sendMessage")
    assert call.params["text"] == "Update on <b>PRV-7K3Q-9M2D</b>: &lt;done&gt;"


async def test_refused_delivery_raises_delivery_failed(
    polling_channel: Channel, telegram_api: FakeTelegramAPI
) -> None:
    """A recipient that is not a chat id cannot be delivered to."""
    with pytest.raises(DeliveryFailed):
        await polling_channel.deliver(OutboundMessage(ChannelName.TELEGRAM, "someone@example.com", "Hi"))


async def test_flood_retries_are_bounded(polling_channel: Channel, telegram_api: FakeTelegramAPI) -> None:
    """A flood answer that keeps coming is retried three times, then the delivery fails instead of hanging."""
    telegram_api.flood("sendMessage", times=10, retry_after=1)
    with pytest.raises(DeliveryFailed):
        await polling_channel.deliver(OutboundMessage(ChannelName.TELEGRAM, str(CHAT), "Hi"))
    assert [call.status for call in telegram_api.calls_of("sendMessage")] == [429] * 4


async def test_flood_wait_longer_than_a_minute_is_not_waited(
    polling_channel: Channel, telegram_api: FakeTelegramAPI
) -> None:
    """An hour-long "retry after" fails the delivery at once (the caller keeps the message to retry)."""
    telegram_api.flood("sendMessage", times=1, retry_after=3600)
    with pytest.raises(DeliveryFailed):
        await polling_channel.deliver(OutboundMessage(ChannelName.TELEGRAM, str(CHAT), "Hi"))
    assert len(telegram_api.calls_of("sendMessage")) == 1
