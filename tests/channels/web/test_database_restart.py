"""The web chat while its PostgreSQL (a private cluster) is stopped: 503 with Retry-After, never 500, and
the same message sent again after the restart is answered once."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import Core
from bot.channels.web.api import ErrorCode
from tests.channels.web.conftest import running_chat_server, web_settings
from tests.support.mail_servers import SmtpServer
from tests.support.private_postgres import PrivatePostgres

pytestmark = [pytest.mark.postgres, pytest.mark.private_postgres]


async def test_the_chat_answers_503_with_retry_after_while_the_database_is_down(
    tmp_path: Path, core: Core, smtp_server: SmtpServer, private_postgres: PrivatePostgres
) -> None:
    """A message sent while PostgreSQL is stopped gets 503, a Retry-After and the service_unavailable
    message (in the asked language); sent again with its message_id after the restart it is answered, and
    the history holds it once."""
    settings = web_settings(tmp_path, smtp_server, database_url=private_postgres.url)
    async with running_chat_server(settings, core) as server:
        session_id = await server.new_session()
        status, _ = await server.chat(session_id, "Hello", message_id="m-1")
        assert status == 200
        await private_postgres.stop()
        payload = {"session_id": session_id, "text": "For how long is my data kept?", "message_id": "m-2"}
        for lang in ("en", "ru"):
            async with server.http.post(
                f"{server.url}/api/chat", json=payload, headers={"Accept-Language": lang}
            ) as response:
                body = await response.json()
                assert response.status == 503, body
                assert int(response.headers["Retry-After"]) > 0
                assert body["error"]["code"] == ErrorCode.SERVICE_UNAVAILABLE.value
                assert ("seconds" in body["error"]["message"]) == (lang == "en")
        async with server.http.post(f"{server.url}/api/sessions") as response:
            assert response.status in (201, 503), await response.text()
        await private_postgres.start()
        status, answer = await server.chat(session_id, payload["text"], message_id="m-2")
        assert status == 200 and answer["replies"], answer
        texts = [m["text"] for m in await server.history(session_id)]
        assert texts.count(payload["text"]) == 1
