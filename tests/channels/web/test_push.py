"""Messages delivered later (an officer's reply) reach an open page over the websocket and stay in the
history for the next visit."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import aiohttp
import pytest

from bot.app import Core
from bot.deliveries import Deliveries
from bot.domain.channels import ChannelName
from bot.domain.errors import DeliveryFailed
from bot.messages import OutboundMessage, QuickReply
from tests.channels.web.conftest import ChatServer, running_chat_server, web_settings


def _officer_reply(session_id: str, text: str) -> OutboundMessage:
    return OutboundMessage(
        ChannelName.WEB,
        session_id,
        text,
        quick_replies=(QuickReply("thank", "Thanks"),),
        ticket_reference="PRV-7K3Q-9M2D",
    )


async def test_deliver_pushes_to_the_open_page(chat_server: ChatServer) -> None:
    """deliver() sends the message on the session's websocket as a PushedMessage."""
    session_id = await chat_server.new_session()
    await chat_server.chat(session_id, "hello")
    async with chat_server.http.ws_connect(f"{chat_server.url}/api/sessions/{session_id}/ws") as socket:
        for _ in range(100):  # the server registers the socket right after the handshake
            if chat_server.channel._hub.open_pages(session_id):
                break
            await asyncio.sleep(0.01)
        await Deliveries({ChannelName.WEB: chat_server.channel}).deliver(
            _officer_reply(session_id, "Your data export is ready.")
        )
        pushed = await socket.receive_json(timeout=5)
    assert datetime.fromisoformat(pushed.pop("at")).tzinfo is not None
    assert pushed == {
        "type": "message",
        "author": "assistant",
        "text": "Your data export is ready.",
        "quick_replies": [{"payload": "thank", "label": "Thanks"}],
        "ticket_reference": "PRV-7K3Q-9M2D",
    }


async def test_delivered_message_is_in_the_history_without_an_open_page(chat_server: ChatServer) -> None:
    """With no page open, the delivered message is kept and shows when the history is read next."""
    session_id = await chat_server.new_session()
    await chat_server.chat(session_id, "hello")
    await chat_server.channel.deliver(_officer_reply(session_id, "An officer wrote back."))
    last = (await chat_server.history(session_id))[-1]
    assert last["author"] == "assistant"
    assert last["text"] == "An officer wrote back."
    assert last["ticket_reference"] == "PRV-7K3Q-9M2D"


async def test_push_only_reaches_its_own_session(chat_server: ChatServer) -> None:
    """A page of another session receives nothing."""
    mine, other = await chat_server.new_session(), await chat_server.new_session()
    async with chat_server.http.ws_connect(f"{chat_server.url}/api/sessions/{other}/ws") as socket:
        await chat_server.channel.deliver(_officer_reply(mine, "private"))
        try:
            message = await socket.receive(timeout=0.3)
        except TimeoutError:
            message = None
    assert message is None


async def test_deliveries_without_a_web_channel_fail_clearly() -> None:
    """Deliveries raises DeliveryFailed when the web channel is not running."""
    try:
        await Deliveries().deliver(_officer_reply("s", "x"))
    except DeliveryFailed as exc:
        assert exc.channel is ChannelName.WEB
    else:
        raise AssertionError("no DeliveryFailed")


async def test_websocket_accepted_any_origin(tmp_path: Path, core: Core) -> None:
    """Regression: a page on any site could open a session's websocket. Only the server's own origin and
    PRIVACYBOT_ALLOWED_ORIGINS may; another is refused with 403 before the upgrade."""
    settings = web_settings(tmp_path, allowed_origins="https://shop.example")
    async with running_chat_server(settings, core) as server:
        session_id = await server.new_session()
        url = f"{server.url}/api/sessions/{session_id}/ws"
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            async with server.http.ws_connect(url, origin="https://evil.example"):
                pass
        assert refused.value.status == 403
        for origin in (server.url, "https://shop.example"):
            async with server.http.ws_connect(url, origin=origin) as socket:
                assert not socket.closed
