"""The Telegram channel over long polling, against the local Bot API stand-in."""

from __future__ import annotations

import time
from pathlib import Path

from bot.channels.telegram import build_telegram_channel
from bot.deliveries import Channel
from tests.channels.telegram.conftest import FailingFirst, Turns, telegram_settings
from tests.support.telegram_api import BOT_USERNAME, FakeTelegramAPI

CHAT = 4242


async def test_start_registers_the_command_menu(
    polling_channel: Channel, telegram_api: FakeTelegramAPI
) -> None:
    """Starting the channel registers /start /help /status /cancel /human for private chats, with
    Azerbaijani and Russian descriptions for apps set to those languages."""
    calls = telegram_api.calls_of("setMyCommands")
    assert [call.params.get("language_code") for call in calls] == [None, "az", "ru"]
    for call in calls:
        assert [c["command"] for c in call.params["commands"]] == [
            "start",
            "help",
            "status",
            "cancel",
            "human",
        ]
        assert all(c["description"] for c in call.params["commands"])
        assert call.params["scope"] == {"type": "all_private_chats"}
    assert calls[2].params["commands"][4]["description"] == "Поговорить с ответственным за защиту данных"


async def test_start_command_greets_with_an_inline_keyboard(
    polling_channel: Channel, telegram_api: FakeTelegramAPI
) -> None:
    """/start is passed to the conversation; the greeting comes back as HTML with its choices as buttons."""
    telegram_api.queue_update(telegram_api.message_update(CHAT, "/start"))
    [call] = await telegram_api.wait_for_calls("sendMessage")
    assert call.params["parse_mode"] == "HTML"
    assert "privacy assistant" in call.params["text"]
    buttons = [row[0] for row in call.params["reply_markup"]["inline_keyboard"]]
    assert [b["callback_data"] for b in buttons] == [
        "ask_data_collected",
        "request_access",
        "request_erasure",
        "human_handoff",
    ]
    assert all(len(b["callback_data"].encode()) <= 64 for b in buttons)


async def test_pressed_button_is_answered_and_sent_as_its_text(
    polling_channel: Channel, telegram_api: FakeTelegramAPI
) -> None:
    """A pressed choice answers the callback query, removes the keyboard, gets the conversation's answer."""
    telegram_api.queue_update(telegram_api.message_update(CHAT, "/start"))
    await telegram_api.wait_for_calls("sendMessage")
    greeting = telegram_api.sent_messages(CHAT)[0]
    first = greeting["reply_markup"]["inline_keyboard"][0][0]
    assert first["text"] == "What data do you collect?"
    pressed_update = telegram_api.callback_update(CHAT, first["callback_data"], greeting["message_id"])
    telegram_api.queue_update(pressed_update)
    await telegram_api.wait_for_calls("sendMessage", 2)
    assert len(telegram_api.calls_of("answerCallbackQuery")) == 1
    pressed = telegram_api.current_message(CHAT, greeting["message_id"])
    assert pressed is not None and "reply_markup" not in pressed
    assert "Information We Collect" in telegram_api.sent_messages(CHAT)[1]["text"]


async def test_unknown_button_gets_a_notice_not_a_turn(
    polling_channel: Channel, telegram_api: FakeTelegramAPI
) -> None:
    """Callback data that matches no button on the message is answered with a notice and sent nowhere."""
    telegram_api.queue_update(telegram_api.message_update(CHAT, "/start"))
    await telegram_api.wait_for_calls("sendMessage")
    greeting = telegram_api.sent_messages(CHAT)[0]
    telegram_api.queue_update(telegram_api.callback_update(CHAT, "choice:99", greeting["message_id"]))
    [answer] = await telegram_api.wait_for_calls("answerCallbackQuery")
    assert "no longer works" in answer.params["text"]
    assert len(telegram_api.calls_of("sendMessage")) == 1


async def test_photo_gets_the_polite_reply(polling_channel: Channel, telegram_api: FakeTelegramAPI) -> None:
    """A photo is not read: the person is told the bot reads text only."""
    telegram_api.queue_update(telegram_api.photo_update(CHAT, caption="my passport"))
    [call] = await telegram_api.wait_for_calls("sendMessage")
    assert "photos" in call.params["text"]
    assert "only read text" in call.params["text"]


async def test_group_message_asks_to_write_privately(
    polling_channel: Channel, telegram_api: FakeTelegramAPI
) -> None:
    """In a group the bot answers nothing but an invitation to a private chat."""
    update = telegram_api.message_update(-1001, "delete my account", user_id=7, chat_type="group")
    telegram_api.queue_update(update)
    [call] = await telegram_api.wait_for_calls("sendMessage")
    assert call.params["chat_id"] == -1001
    assert "private chat" in call.params["text"]
    assert f"@{BOT_USERNAME}" in call.params["text"]


async def test_flood_answer_is_waited_out(polling_channel: Channel, telegram_api: FakeTelegramAPI) -> None:
    """A 429 "retry after 1" on sendMessage is waited out and the reply sent, not dropped."""
    telegram_api.flood("sendMessage", times=1, retry_after=1)
    started = time.monotonic()
    telegram_api.queue_update(telegram_api.message_update(CHAT, "/help"))
    refused, sent = await telegram_api.wait_for_calls("sendMessage", 2)
    assert (refused.status, sent.status) == (429, 200)
    assert time.monotonic() - started >= 1
    assert len(telegram_api.sent_messages(CHAT)) == 1


async def test_redelivered_update_after_restart_is_answered_once(
    tmp_path: Path, telegram_api: FakeTelegramAPI, turns: Turns
) -> None:
    """The same update_id delivered again to a restarted bot produces no second reply."""
    settings = telegram_settings(tmp_path, telegram_api)
    update = telegram_api.message_update(CHAT, "/start", update_id=50)
    first = turns.serve(build_telegram_channel(settings, turns.handle, None))
    await first.start()
    telegram_api.queue_update(dict(update))
    await telegram_api.wait_for_calls("sendMessage")
    await first.stop()

    second = turns.serve(build_telegram_channel(settings, turns.handle, None))
    await second.start()
    try:
        telegram_api.queue_update(dict(update))
        telegram_api.queue_update(telegram_api.message_update(CHAT, "/help", update_id=51))
        await telegram_api.wait_for_calls("sendMessage", 2)
    finally:
        await second.stop()
    texts = [m["text"] for m in telegram_api.sent_messages(CHAT)]
    assert len(texts) == 2  # /start once, /help once


async def test_crashed_turn_gets_an_apology_and_polling_goes_on(
    tmp_path: Path, telegram_api: FakeTelegramAPI, turns: Turns
) -> None:
    """A turn that crashes is turned into a clear message for the person; the next message is answered."""
    settings = telegram_settings(tmp_path, telegram_api)
    channel = turns.serve(build_telegram_channel(settings, FailingFirst(turns.handle), None))
    await channel.start()
    try:
        telegram_api.queue_update(telegram_api.message_update(CHAT, "Where is my data stored?"))
        await telegram_api.wait_for_calls("sendMessage")
        telegram_api.queue_update(telegram_api.message_update(CHAT, "/start"))
        await telegram_api.wait_for_calls("sendMessage", 2)
    finally:
        await channel.stop()
    apology, greeting = (m["text"] for m in telegram_api.sent_messages(CHAT))
    assert "something went wrong" in apology
    assert "Where is my data" not in apology
    assert "privacy assistant" in greeting


async def test_pressed_button_sends_its_payload_in_the_chat_language(
    polling_channel: Channel, telegram_api: FakeTelegramAPI
) -> None:
    """An Azerbaijani greeting gets Azerbaijani buttons whose callback data is the payload; pressing
    "Hesabımı sil" (callback ``request_erasure``) starts the erasure flow, answered in Azerbaijani."""
    telegram_api.queue_update(telegram_api.message_update(CHAT, "Salam"))
    await telegram_api.wait_for_calls("sendMessage")
    greeting = telegram_api.sent_messages(CHAT)[0]
    buttons = [row[0] for row in greeting["reply_markup"]["inline_keyboard"]]
    erase = next(b for b in buttons if b["callback_data"] == "request_erasure")
    assert erase["text"] == "Hesabımı sil"
    telegram_api.queue_update(telegram_api.callback_update(CHAT, "request_erasure", greeting["message_id"]))
    await telegram_api.wait_for_calls("sendMessage", 3)
    replies = " ".join(m["text"] for m in telegram_api.sent_messages(CHAT)[1:])
    assert "hesabınızın və şəxsi məlumatlarınızın silinməsi" in replies
    assert "e-poçt ünvanı" in replies
