"""Requests the web chat API refuses: each gets a JSON error with a code and a sentence saying why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.app import Core
from tests.channels.web.conftest import ChatServer, running_chat_server, web_settings


async def _post_raw(server: ChatServer, body: bytes) -> tuple[int, dict[str, Any]]:
    async with server.http.post(
        f"{server.url}/api/chat", data=body, headers={"Content-Type": "application/json"}
    ) as response:
        return response.status, await response.json()


async def test_invalid_json_is_400_with_a_message(chat_server: ChatServer) -> None:
    """A body that is not JSON is refused with 400 invalid_json and an example of the expected shape."""
    status, body = await _post_raw(chat_server, b'{"session_id": "x", "text": ')
    assert status == 400
    assert body["error"] == {"code": "invalid_json", "message": body["error"]["message"]}
    assert "not valid JSON" in body["error"]["message"]


async def test_json_that_is_not_an_object_is_400(chat_server: ChatServer) -> None:
    """A JSON array or string is not a chat message."""
    status, body = await _post_raw(chat_server, b'["hello"]')
    assert status == 400
    assert body["error"]["code"] == "invalid_json"


async def test_missing_and_mistyped_fields_are_named(chat_server: ChatServer) -> None:
    """A missing session_id and a non-string text are both named in the 400 message."""
    status, body = await _post_raw(chat_server, b'{"text": 42}')
    assert status == 400
    message = body["error"]["message"]
    assert body["error"]["code"] == "invalid_request"
    assert "session_id" in message and "text" in message


async def test_malformed_session_id_is_400(chat_server: ChatServer) -> None:
    """An id that does not have the issued shape is refused as malformed."""
    status, body = await chat_server.chat("not-a-session", "hello")
    assert status == 400
    assert body["error"]["code"] == "malformed_session"


async def test_forged_session_id_is_404_unknown(chat_server: ChatServer) -> None:
    """A well-shaped id the server did not issue is unknown (nothing is stored for it)."""
    real = await chat_server.new_session()
    forged = real[:-4] + ("AAAA" if not real.endswith("AAAA") else "BBBB")
    status, body = await chat_server.chat(forged, "hello")
    assert status == 404
    assert body["error"]["code"] == "unknown_session"
    async with chat_server.http.get(f"{chat_server.url}/api/sessions/{forged}/messages") as response:
        assert response.status == 404


async def test_overlong_message_is_refused_with_the_limit(tmp_path: Path, core: Core) -> None:
    """A message over max_message_chars is refused with 413 and a message that states the limit."""
    async with running_chat_server(web_settings(tmp_path, max_message_chars=50), core) as server:
        session_id = await server.new_session()
        status, body = await server.chat(session_id, "x" * 51)
        assert status == 413
        assert body["error"]["code"] == "message_too_long"
        assert "50 characters" in body["error"]["message"]
        status, _ = await server.chat(session_id, "y" * 50)
        assert status == 200


async def test_oversized_body_is_a_json_413(tmp_path: Path, core: Core) -> None:
    """A body beyond what any allowed message needs is cut off by the server with a JSON 413."""
    async with running_chat_server(web_settings(tmp_path, max_message_chars=10), core) as server:
        status, body = await _post_raw(server, b'{"text": "' + b"z" * 20_000 + b'"}')
        assert status == 413
        assert body["error"]["code"] == "body_too_large"


async def test_too_many_messages_from_one_session_is_429(tmp_path: Path, core: Core) -> None:
    """Past rate_limit_per_minute messages a session gets 429 with Retry-After and the limit stated;
    another session is not affected."""
    async with running_chat_server(web_settings(tmp_path, rate_limit_per_minute=3), core) as server:
        session_id = await server.new_session()
        for _ in range(3):
            assert (await server.chat(session_id, "hello"))[0] == 200
        async with server.http.post(
            f"{server.url}/api/chat", json={"session_id": session_id, "text": "hello"}
        ) as response:
            assert response.status == 429
            assert 0 < int(response.headers["Retry-After"]) <= 60
            body = await response.json()
        assert body["error"]["code"] == "rate_limited"
        assert "at most 3 a minute" in body["error"]["message"]
        other = await server.new_session()
        assert (await server.chat(other, "hello"))[0] == 200


async def test_too_many_requests_from_one_address_is_429(tmp_path: Path, core: Core) -> None:
    """One address cannot dodge the limit by opening new sessions: it is limited too (at 10x the per-session
    rate, since people share addresses)."""
    async with running_chat_server(web_settings(tmp_path, rate_limit_per_minute=1), core) as server:
        statuses = []
        for _ in range(11):
            async with server.http.post(f"{server.url}/api/sessions") as response:
                statuses.append(response.status)
        assert statuses[:10] == [201] * 10
        assert statuses[10] == 429


async def test_deeply_nested_json_was_a_500(chat_server: ChatServer) -> None:
    """Regression: 5,000-deep nested JSON raised RecursionError in the decoder (500). It is a 400."""
    status, body = await _post_raw(chat_server, b"[" * 5000 + b"]" * 5000)
    assert status == 400
    assert body["error"]["code"] == "invalid_json"
    nested = b'{"session_id": "x", "text": ' + b'{"a":' * 5000 + b"1" + b"}" * 5001
    status, body = await _post_raw(chat_server, nested)
    assert status in (400, 413) and body["error"]["code"] in ("invalid_json", "body_too_large")
