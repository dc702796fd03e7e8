"""The web chat's JSON API against a real server over the real SQL store."""

from __future__ import annotations

import re
from pathlib import Path

import aiohttp

from bot.app import Core
from bot.channels.web.api import SESSION_ID_PATTERN
from tests.channels.web.conftest import ChatServer, running_chat_server, web_settings
from tests.support.mail_servers import SmtpServer, extract_code

REFERENCE = re.compile(r"PRV-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}")


async def test_chat_answers_a_policy_question(chat_server: ChatServer) -> None:
    """POST /api/chat answers {"replies": [...]} with the policy quoted as plain text."""
    session_id = await chat_server.new_session()
    status, body = await chat_server.chat(session_id, "How long do you keep my data?")
    assert status == 200
    assert set(body) >= {"replies", "quick_replies", "ticket_reference"}
    assert body["replies"] and all(isinstance(reply, str) for reply in body["replies"])
    assert "privacy policy" in body["replies"][0].lower()


async def test_sessions_are_distinct_and_unguessable(chat_server: ChatServer) -> None:
    """Every POST /api/sessions issues a new id of the documented shape."""
    ids = {await chat_server.new_session() for _ in range(5)}
    assert len(ids) == 5
    assert all(re.fullmatch(SESSION_ID_PATTERN, session_id) for session_id in ids)


async def test_rights_request_opens_a_ticket_after_the_emailed_code(
    chat_server: ChatServer, smtp_server: SmtpServer
) -> None:
    """Asking to delete the account, giving the email and typing the mailed code opens a ticket whose
    reference the API returns in ticket_reference."""
    session_id = await chat_server.new_session()
    await chat_server.chat(session_id, "Please delete my account")
    status, body = await chat_server.chat(session_id, "dana@example.test")
    assert status == 200
    mail = (await smtp_server.sink.wait_for(lambda m: "dana@example.test" in m.rcpt_tos))[0]
    status, body = await chat_server.chat(session_id, extract_code(mail))
    assert status == 200
    assert body["ticket_reference"] and REFERENCE.fullmatch(body["ticket_reference"])
    assert any(body["ticket_reference"] in reply for reply in body["replies"])


async def test_history_reads_the_conversation_back_in_order(chat_server: ChatServer) -> None:
    """GET /api/sessions/{id}/messages lists the person's messages and the replies, oldest first."""
    session_id = await chat_server.new_session()
    await chat_server.chat(session_id, "hello")
    await chat_server.chat(session_id, "Do you share my data with anyone?")
    messages = await chat_server.history(session_id)
    assert messages[0]["author"] == "person"
    assert [m["text"] for m in messages if m["author"] == "person"] == [
        "hello",
        "Do you share my data with anyone?",
    ]
    assert sum(m["author"] == "assistant" for m in messages) >= 2


async def test_retried_message_id_got_no_replies(chat_server: ChatServer) -> None:
    """Regression: a retry with the same message_id got ``duplicate: true`` and no replies, so a person whose
    first response was lost never saw the answer. The retry gets the first turn's replies (with their
    quick replies and ticket reference); the message is stored and answered once."""
    session_id = await chat_server.new_session()
    await chat_server.chat(session_id, "Please delete my account", message_id="m-0")
    first = await chat_server.chat(session_id, "hello", message_id="m-1")
    before = await chat_server.history(session_id)
    second = await chat_server.chat(session_id, "hello", message_id="m-1")
    assert first[0] == second[0] == 200
    assert first[1]["duplicate"] is False and second[1]["duplicate"] is True
    assert first[1]["replies"]
    assert {key: value for key, value in second[1].items() if key != "duplicate"} == {
        key: value for key, value in first[1].items() if key != "duplicate"
    }
    assert await chat_server.history(session_id) == before


async def test_session_survives_a_server_restart(tmp_path: Path, core: Core, smtp_server: SmtpServer) -> None:
    """A session id and its conversation (history and where the dialogue stands) outlive the server process
    on the same SQLite file."""
    settings = web_settings(tmp_path, smtp_server)
    async with running_chat_server(settings, core) as server:
        session_id = await server.new_session()
        await server.chat(session_id, "I want a copy of my data")
        before = await server.history(session_id)
    async with running_chat_server(settings, core) as server:
        assert await server.history(session_id) == before
        status, _ = await server.chat(session_id, "lee@example.test")
        assert status == 200
    assert await smtp_server.sink.wait_for(lambda m: "lee@example.test" in m.rcpt_tos)


async def test_health_check_answers(chat_server: ChatServer) -> None:
    """GET /healthz answers 200 with the database reachable and Redis not configured; /readyz says ready."""
    async with chat_server.http.get(f"{chat_server.url}/healthz") as response:
        assert response.status == 200
        assert await response.json() == {"status": "ok", "database": "ok", "redis": "not_configured"}
    async with chat_server.http.get(f"{chat_server.url}/readyz") as response:
        assert response.status == 200
        assert await response.json() == {"ready": True, "status": "ready"}


async def test_page_and_widget_are_served(chat_server: ChatServer) -> None:
    """/ is the chat page (with a CSP), /widget.js the embeddable script, /widget/panel its markup."""
    async with chat_server.http.get(f"{chat_server.url}/") as response:
        assert response.status == 200
        assert "Content-Security-Policy" in response.headers
        page = await response.text()
        assert "data-privacybot-panel" in page and 'src="/widget.js"' in page
    async with chat_server.http.get(f"{chat_server.url}/widget.js") as response:
        assert response.status == 200
        script = await response.text()
        assert "textContent" in script and "innerHTML = markup" in script
    async with chat_server.http.get(
        f"{chat_server.url}/widget/panel", headers={"Origin": "https://shop.example"}
    ) as response:
        assert response.status == 200
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert "data-pb-bubble" in await response.text()


async def test_cross_origin_preflight_is_allowed(chat_server: ChatServer) -> None:
    """A site embedding the widget may POST JSON to the API (the CORS preflight succeeds)."""
    headers = {
        "Origin": "https://shop.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    async with chat_server.http.options(f"{chat_server.url}/api/chat", headers=headers) as response:
        assert response.status == 204
        assert "POST" in response.headers["Access-Control-Allow-Methods"]


async def test_unknown_api_path_is_a_json_404(chat_server: ChatServer) -> None:
    """An unknown /api path answers a JSON error, not an HTML page."""
    async with chat_server.http.get(f"{chat_server.url}/api/nothing") as response:
        assert response.status == 404
        assert (await response.json())["error"]["code"] == "not_found"


async def test_websocket_rejects_an_unknown_session(chat_server: ChatServer) -> None:
    """Opening the push socket with a made-up session id fails with 404 before any upgrade."""
    forged = "A" * 32 + "." + "B" * 22
    try:
        async with chat_server.http.ws_connect(f"{chat_server.url}/api/sessions/{forged}/ws"):
            raise AssertionError("the websocket opened")
    except aiohttp.WSServerHandshakeError as exc:
        assert exc.status == 404


async def test_lang_field_sets_the_conversation_language(chat_server: ChatServer) -> None:
    """The widget's language switch: "lang" on a message makes the replies, their quick replies and the
    later turns Russian, even for English text; the answer says which language it is in."""
    session_id = await chat_server.new_session()
    status, body = await chat_server.chat(session_id, "hello", lang="ru")
    assert status == 200 and body["lang"] == "ru"
    assert body["replies"][0].startswith("Здравствуйте!")
    assert {"payload": "request_erasure", "label": "Удалить мой аккаунт"} in body["quick_replies"]
    status, later = await chat_server.chat(session_id, "thanks")
    assert status == 200 and later["lang"] == "ru" and "Пожалуйста" in later["replies"][0]


async def test_an_unknown_lang_is_refused_as_invalid(chat_server: ChatServer) -> None:
    """A language the assistant does not speak is a 400 naming the field, not a reply in some language."""
    session_id = await chat_server.new_session()
    status, body = await chat_server.chat(session_id, "hello", lang="fr")
    assert status == 400 and body["error"]["code"] == "invalid_request"
    assert "lang" in body["error"]["message"]


async def test_a_tapped_quick_reply_is_read_through_its_payload(chat_server: ChatServer) -> None:
    """The officer button of an uncovered answer, sent with its payload, hands the chat to the officer
    (a ticket opens) instead of being answered as another policy question."""
    session_id = await chat_server.new_session()
    _, declined = await chat_server.chat(session_id, "How much does a course cost?")
    [button] = declined["quick_replies"]
    assert button == {"payload": "human_handoff", "label": "Talk to the privacy officer"}
    status, body = await chat_server.chat(session_id, button["label"], payload=button["payload"])
    assert status == 200 and REFERENCE.fullmatch(body["ticket_reference"] or "")
    assert "passed this conversation to our privacy officer" in body["replies"][0]


async def test_an_azerbaijani_erasure_request_is_verified_and_opened_in_azerbaijani(
    chat_server: ChatServer, smtp_server: SmtpServer
) -> None:
    """ "Hesabımı silin": the address is asked in Azerbaijani, the code mail is written in Azerbaijani, and
    the opened ticket is announced in Azerbaijani."""
    session_id = await chat_server.new_session()
    _, asked = await chat_server.chat(session_id, "Hesabımı silin")
    assert asked["lang"] == "az" and "e-poçt ünvanı" in asked["replies"][-1]
    await chat_server.chat(session_id, "aysel@example.test")
    mail = (await smtp_server.sink.wait_for(lambda m: "aysel@example.test" in m.rcpt_tos))[0]
    assert "təsdiq kodunuz" in mail.subject and "təsdiq kodunuz" in mail.text
    _, opened = await chat_server.chat(session_id, extract_code(mail))
    assert opened["ticket_reference"] and opened["lang"] == "az"
    assert any("Sorğunuz açıldı" in reply for reply in opened["replies"])


async def test_forwarded_address_counts_only_behind_a_trusted_proxy(tmp_path: Path, core: Core) -> None:
    """Behind a trusted load balancer the per-address limit counts the last address of X-Forwarded-For
    (the one the balancer appended): two clients behind it have their own allowances."""
    settings = web_settings(tmp_path, rate_limit_per_minute=1, trusted_proxies="127.0.0.1")
    async with running_chat_server(settings, core) as server:
        for n in range(10):  # the address allowance is 10 x 1: spent by "client A"
            headers = {"X-Forwarded-For": "203.0.113.9, 198.51.100.7"}
            async with server.http.post(f"{server.url}/api/sessions", headers=headers) as response:
                assert response.status == 201, n
        async with server.http.post(
            f"{server.url}/api/sessions", headers={"X-Forwarded-For": "198.51.100.7"}
        ) as response:
            assert response.status == 429
        async with server.http.post(
            f"{server.url}/api/sessions", headers={"X-Forwarded-For": "198.51.100.8"}
        ) as response:
            assert response.status == 201


def test_forwarded_header_from_an_untrusted_peer_is_ignored() -> None:
    """A client that is not a trusted proxy cannot choose its address by sending X-Forwarded-For."""
    from aiohttp.test_utils import make_mocked_request

    from bot.channels.web.handlers import client_address

    request = make_mocked_request("POST", "/api/sessions", headers={"X-Forwarded-For": "198.51.100.7"})
    peer = client_address(request, frozenset())  # the mocked request's peer ("-": no socket address)
    assert peer != "198.51.100.7"
    assert client_address(request, frozenset({"10.0.0.5"})) == peer
    assert client_address(request, frozenset({peer})) == "198.51.100.7"


async def test_code_reply_gives_nothing_away_and_hints_at_a_typo(
    chat_server: ChatServer, smtp_server: SmtpServer
) -> None:
    """Regression: an unknown or mistyped address was told only "I've sent a code". The reply now says a code
    is on its way if the address belongs to an account and suggests checking the spelling or asking the
    officer, in the same words for any address (only the masked address differs)."""
    texts = []
    for address in ("dana@example.test", "dnaa@exmaple.test"):
        session_id = await chat_server.new_session()
        await chat_server.chat(session_id, "Please delete my account")
        status, body = await chat_server.chat(session_id, address)
        assert status == 200
        [reply] = [r for r in body["replies"] if "6-digit code" in r]
        assert "belongs to a ZynorLink account" in reply and "Check the spelling" in reply
        texts.append(re.sub(r"\S+@\S+", "ADDRESS", reply))
    assert texts[0] == texts[1]
