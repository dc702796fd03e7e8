"""The test servers in tests/support work against the real client libraries the bot uses."""

from __future__ import annotations

import asyncio
import re
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import pytest
from aiogram import Dispatcher
from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter
from aiogram.types import Message
from aiohttp import ClientSession, web
from aioimaplib import IMAP4, IMAP4_SSL
from playwright.async_api import Page

from tests.support.imap_server import DovecotServer, ImapMailbox
from tests.support.mail_servers import SmtpServer, extract_code, start_smtp_server
from tests.support.telegram_api import FakeTelegramAPI


def _mail(to: str, subject: str, body: str) -> EmailMessage:
    """Build a small plain-text message."""
    message = EmailMessage()
    message["From"] = "bot@example.test"
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    return message


# ------------------------------------------------------------------------------------------------ SMTP


async def test_smtp_server_receives_authenticated_mail(smtp_server: SmtpServer) -> None:
    """A message sent with aiosmtplib (AUTH, no TLS) arrives in the sink with envelope and a findable code."""
    await aiosmtplib.send(
        _mail("alice@example.test", "Your code", "Your verification code is 493027.\n"),
        hostname=smtp_server.host,
        port=smtp_server.port,
        username=smtp_server.user,
        password=smtp_server.password,
        use_tls=False,
        start_tls=False,
    )
    (mail,) = await smtp_server.sink.wait_for(1)
    assert mail.rcpt_tos == ("alice@example.test",)
    assert mail.mail_from == "bot@example.test"
    assert mail.auth_user == smtp_server.user
    assert mail.subject == "Your code"
    assert smtp_server.sink.last_to("ALICE@example.test") is mail
    assert smtp_server.sink.last_to("bob@example.test") is None
    assert extract_code(mail) == "493027"
    assert extract_code(mail.message) == "493027"


async def test_smtp_server_rejects_wrong_password(smtp_server: SmtpServer) -> None:
    """AUTH with a wrong password fails like a real server would."""
    with pytest.raises(aiosmtplib.SMTPAuthenticationError):
        await aiosmtplib.send(
            _mail("alice@example.test", "x", "y"),
            hostname=smtp_server.host,
            port=smtp_server.port,
            username=smtp_server.user,
            password="wrong",
            use_tls=False,
            start_tls=False,
        )
    assert smtp_server.sink.messages == []


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
async def test_smtp_server_can_require_auth() -> None:
    """With auth_required, unauthenticated MAIL FROM is refused."""
    server = start_smtp_server(auth_required=True)
    try:
        with pytest.raises(aiosmtplib.SMTPResponseException):
            await aiosmtplib.send(
                _mail("a@example.test", "x", "y"), hostname=server.host, port=server.port, start_tls=False
            )
    finally:
        server.controller.stop()


def test_extract_code_ignores_html_markup() -> None:
    """In an HTML-only mail the code is found in the text, not in a colour like #123456."""
    message = EmailMessage()
    message.set_content("<p style='color:#123456'>Code: <b>987654</b></p>", subtype="html")
    assert extract_code(message) == "987654"
    with pytest.raises(ValueError):
        extract_code(_mail("a@example.test", "x", "no code here 12345"))


async def test_sink_wait_for_predicate_times_out(smtp_server: SmtpServer) -> None:
    """wait_for raises TimeoutError when no message matches."""
    with pytest.raises(TimeoutError):
        await smtp_server.sink.wait_for(lambda mail: "x" in mail.subject, timeout=0.1)


# ------------------------------------------------------------------------------------------------ IMAP


async def test_dovecot_append_and_fetch_with_aioimaplib(imap_server: ImapMailbox) -> None:
    """A delivered message can be fetched back with aioimaplib; folders can be created and listed."""
    await imap_server.adeliver(_mail(imap_server.address, "Hello", "first").as_bytes())
    imap_server.create_folder("Processed")
    imap_server.deliver(
        _mail(imap_server.address, "Filed", "second").as_bytes(), folder="Processed", flags="\\Seen"
    )

    client = IMAP4(host=imap_server.host, port=imap_server.port, timeout=5)
    await client.wait_hello_from_server()
    assert (await client.login(imap_server.user, imap_server.password)).result == "OK"
    assert (await client.select("INBOX")).result == "OK"
    response = await client.fetch("1", "(RFC822)")
    assert response.result == "OK"
    assert b"Subject: Hello" in bytes(response.lines[1])
    await client.logout()

    assert "Processed" in imap_server.folders()
    (filed,) = imap_server.list_folder("Processed")
    assert "\\Seen" in filed.flags
    assert filed.message["Subject"] == "Filed"
    (inbox,) = imap_server.list_folder()
    assert inbox.flags == ("\\Seen",)  # FETCH RFC822 above marked it seen; list_folder itself only peeks
    assert inbox.uid == 1


async def test_each_test_gets_an_empty_mailbox(imap_server: ImapMailbox) -> None:
    """imap_server is a fresh account per test, so earlier tests' mail is not visible."""
    assert imap_server.list_folder() == []


async def test_dovecot_idle_reports_new_message(imap_server: ImapMailbox) -> None:
    """An IDLEing aioimaplib client is told about a message appended meanwhile (EXISTS push)."""
    client = IMAP4(host=imap_server.host, port=imap_server.port, timeout=5)
    await client.wait_hello_from_server()
    await client.login(imap_server.user, imap_server.password)
    await client.select("INBOX")
    idle = await client.idle_start(timeout=10)
    await imap_server.adeliver(_mail(imap_server.address, "New", "pushed").as_bytes())
    pushed: list[bytes] = []
    while not any(b"EXISTS" in line for line in pushed):
        pushed.extend(
            line if isinstance(line, bytes) else line.encode() for line in await client.wait_server_push(5)
        )
    client.idle_done()
    await asyncio.wait_for(idle, 5)
    await client.logout()
    assert any(re.fullmatch(rb"1 EXISTS", line) for line in pushed)


async def test_dovecot_starttls_variant(imap_server_starttls: ImapMailbox) -> None:
    """The TLS dovecot offers STARTTLS on port (helpers use it) and implicit TLS to aioimaplib on ssl_port."""
    imap_server_starttls.deliver(b"Subject: tls\r\n\r\nsecret\r\n")  # helper does STARTTLS itself
    client = IMAP4_SSL(
        host=imap_server_starttls.host,
        port=imap_server_starttls.ssl_port,
        ssl_context=imap_server_starttls.ssl_context(),
        timeout=5,
    )
    await client.wait_hello_from_server()
    assert (await client.login(imap_server_starttls.user, imap_server_starttls.password)).result == "OK"
    assert (await client.select("INBOX")).result == "OK"
    await client.logout()

    plain = IMAP4(host=imap_server_starttls.host, port=imap_server_starttls.port, timeout=5)
    await plain.wait_hello_from_server()
    assert "STARTTLS" in plain.protocol.capabilities
    await plain.logout()


def test_dovecot_is_shared_per_session(dovecot: DovecotServer, imap_server: ImapMailbox) -> None:
    """imap_server accounts live on the session's dovecot."""
    assert imap_server.server is dovecot
    assert imap_server.port == dovecot.port


# -------------------------------------------------------------------------------------------- Telegram


async def test_aiogram_bot_talks_to_fake_api(telegram_api: FakeTelegramAPI) -> None:
    """A real aiogram Bot can call getMe and sendMessage; the fake records the calls and the message."""
    bot = telegram_api.create_bot()
    try:
        me = await bot.get_me()
        assert me.username == telegram_api.bot_user["username"]
        sent = await bot.send_message(chat_id=42, text="Hello 123")
        assert sent.message_id == 1
        assert sent.chat.id == 42
        assert sent.from_user is not None and sent.from_user.is_bot
        edited = await bot.edit_message_text(text="Edited", chat_id=42, message_id=sent.message_id)
        assert isinstance(edited, Message) and edited.text == "Edited"
        with pytest.raises(TelegramBadRequest, match="not modified"):
            await bot.edit_message_text(text="Edited", chat_id=42, message_id=sent.message_id)
    finally:
        await bot.session.close()
    assert [call.method for call in telegram_api.calls][:2] == ["getMe", "sendMessage"]
    assert telegram_api.calls_of("sendMessage")[0].params == {"chat_id": 42, "text": "Hello 123"}
    assert [m["text"] for m in telegram_api.sent_messages(42)] == ["Hello 123"]
    assert telegram_api.current_message(42, 1)["text"] == "Edited"  # type: ignore[index]


async def test_dispatcher_polling_receives_queued_update(telegram_api: FakeTelegramAPI) -> None:
    """A polling Dispatcher gets a queued message and a callback query; its replies are recorded."""
    dp = Dispatcher()

    @dp.message()
    async def echo_handler(message: Message) -> None:
        """Echo the text back."""
        await message.answer(f"echo: {message.text}")

    @dp.callback_query()
    async def callback_handler(query: object) -> None:
        """Acknowledge every button press."""
        await query.answer("ok")  # type: ignore[attr-defined]

    bot = telegram_api.create_bot()
    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=5))
    try:
        telegram_api.queue_update(telegram_api.message_update(7, "hi there"))
        await telegram_api.wait_for_calls("sendMessage", 1)
        (reply,) = telegram_api.sent_messages(7)
        assert reply["text"] == "echo: hi there"
        assert reply["message_id"] == 2  # message ids are shared by user and bot within a chat
        telegram_api.queue_update(telegram_api.callback_update(7, "yes", reply["message_id"]))
        (answer,) = await telegram_api.wait_for_calls("answerCallbackQuery", 1)
        assert answer.params["text"] == "ok"
    finally:
        await dp.stop_polling()
        await polling
        await bot.session.close()
    offsets = [call.params.get("offset") for call in telegram_api.calls_of("getUpdates")]
    assert 2 in offsets  # the first update was confirmed


async def test_fake_api_speaks_raw_http(telegram_api: FakeTelegramAPI) -> None:
    """JSON bodies work, a wrong token gets 401, an unknown method 404; getUpdates waits out its timeout."""
    base = f"{telegram_api.base_url}/bot{telegram_api.token}"
    async with ClientSession() as http:
        async with http.post(f"{base}/sendMessage", json={"chat_id": 3, "text": "via json"}) as response:
            assert (await response.json())["result"]["text"] == "via json"
        async with http.post(f"{telegram_api.base_url}/bot1:wrong/getMe") as response:
            assert response.status == 401
        async with http.post(f"{base}/noSuchMethod") as response:
            assert response.status == 404
        started = asyncio.get_running_loop().time()
        async with http.post(f"{base}/getUpdates", data={"timeout": "1"}) as response:
            assert (await response.json())["result"] == []
        assert asyncio.get_running_loop().time() - started >= 0.9
    assert telegram_api.calls_of("getUpdates")[0].params == {"timeout": 1}


async def test_flood_control_answers_429(telegram_api: FakeTelegramAPI) -> None:
    """After flood(), the next sendMessage gets HTTP 429 with retry_after, and the one after succeeds."""
    telegram_api.flood("sendMessage", times=1, retry_after=1)
    bot = telegram_api.create_bot()
    try:
        with pytest.raises(TelegramRetryAfter) as raised:
            await bot.send_message(chat_id=1, text="a")
        assert raised.value.retry_after == 1
        await bot.send_message(chat_id=1, text="b")
    finally:
        await bot.session.close()
    assert [call.status for call in telegram_api.calls_of("sendMessage")] == [429, 200]


async def test_photo_update_and_file_download(telegram_api: FakeTelegramAPI) -> None:
    """A photo update's file can be fetched with getFile and downloaded through the fake's file URL."""
    update = telegram_api.photo_update(5, caption="screenshot", content=b"PNGDATA")
    file_id = update["message"]["photo"][-1]["file_id"]
    bot = telegram_api.create_bot()
    try:
        file = await bot.get_file(file_id)
        assert file.file_path is not None
        data = await bot.download_file(file.file_path)
        assert data is not None and data.read() == b"PNGDATA"
    finally:
        await bot.session.close()


# --------------------------------------------------------------------------------------------- Browser


@pytest.mark.browser
async def test_browser_clicks_button_on_local_page(page: Page, tmp_path: Path) -> None:
    """Chromium loads a page from a local aiohttp server, a click changes its text, a screenshot is saved."""
    html = (
        "<html><body><button id='go' onclick=\"document.getElementById('out').textContent='clicked'\">"
        "Go</button>"
        "<p id='out'>waiting</p></body></html>"
    )
    app = web.Application()

    async def index(request: web.Request) -> web.Response:
        """Serve the test page."""
        return web.Response(text=html, content_type="text/html")

    app.router.add_get("/", index)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        await page.goto(f"http://127.0.0.1:{port}/")
        assert await page.text_content("#out") == "waiting"
        await page.click("#go")
        assert await page.text_content("#out") == "clicked"
        shot = tmp_path / "page.png"
        await page.screenshot(path=str(shot))
        assert shot.read_bytes().startswith(b"\x89PNG")
    finally:
        await runner.cleanup()
