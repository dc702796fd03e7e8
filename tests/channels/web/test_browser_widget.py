"""What a person sees in the web chat, in headless Debian chromium against the real server: the character
counter and the server's limit, chips that stay while they apply, author labels and times, formatted
replies and the folded policy quote, a goodbye, "New conversation", the language switch, the launcher icon
and favicon, keyboard use, and axe-core finding no serious accessibility problem."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, Request, expect

from bot.app import Core
from bot.domain.channels import ChannelName
from bot.messages import AUTHOR_META, OFFICER_AUTHOR, OutboundMessage
from tests.channels.web.conftest import ChatServer, running_chat_server, web_settings
from tests.channels.web.test_browser import _say
from tests.support.accessibility import describe, serious_violations
from tests.support.mail_servers import SmtpServer

pytestmark = pytest.mark.browser

SMALL_LIMIT = 300
_FOCUSED = "document.activeElement.textContent.trim() || document.activeElement.id"


@pytest_asyncio.fixture
async def small_limit_server(
    tmp_path: Path, core: Core, smtp_server: SmtpServer
) -> AsyncIterator[ChatServer]:
    """A chat server whose PRIVACYBOT_MAX_MESSAGE_CHARS is 300."""
    settings = web_settings(tmp_path, smtp_server, max_message_chars=SMALL_LIMIT)
    async with running_chat_server(settings, core) as server:
        yield server


async def _session_id(page: Page) -> str:
    return str(await page.evaluate("JSON.parse(localStorage.getItem('privacybot.session'))"))


async def _wait_for_socket(page: Page, server: ChatServer) -> str:
    session_id = await _session_id(page)
    for _ in range(100):
        if server.channel._hub.open_pages(session_id):
            break
        await page.wait_for_timeout(20)
    return session_id


async def test_counter_and_limit_come_from_the_server(page: Page, small_limit_server: ChatServer) -> None:
    """The counter counts against the server's limit (300 here); a longer paste is kept whole, a clear
    message names both lengths and Send is disabled until it is shortened; then it sends."""
    await page.goto(f"{small_limit_server.url}/")
    counter = page.locator("[data-pb-count]")
    await expect(counter).to_have_text(f"0 / {SMALL_LIMIT}")
    box = page.locator("#pb-input")
    await box.fill("x" * 500)
    assert len(await box.input_value()) == 500
    await expect(counter).to_have_text(f"500 / {SMALL_LIMIT}")
    limit = page.locator("[data-pb-limit]")
    await expect(limit).to_be_visible()
    await expect(limit).to_contain_text(f"500 characters; the limit is {SMALL_LIMIT}")
    await expect(page.locator("[data-pb-send]")).to_be_disabled()
    await box.press("Enter")
    await expect(page.locator(".pb-log .pb-person")).to_have_count(0)

    await box.fill("How long do you keep my data?")
    await expect(limit).to_be_hidden()
    await expect(page.locator("[data-pb-send]")).to_be_enabled()
    await expect(box).to_have_attribute("aria-invalid", "false")
    await box.press("Enter")
    await expect(page.locator(".pb-log .pb-assistant")).to_have_count(1)
    await expect(counter).to_have_text(f"0 / {SMALL_LIMIT}")


async def test_code_choices_stay_after_asking_for_a_new_code(page: Page, chat_server: ChatServer) -> None:
    """While the code is awaited, "Send a new code" (answered "wait a moment") leaves both choices on
    offer, and Cancel still works."""
    await page.goto(f"{chat_server.url}/")
    await _say(page, "I want to delete my account")
    await _say(page, "sam@example.test")
    chips = page.locator(".pb-quick .pb-chip")
    await expect(chips).to_have_text(["Send a new code", "Cancel"])
    before = await page.locator(".pb-log .pb-assistant").count()
    await chips.filter(has_text="Send a new code").click()
    await expect(page.locator(".pb-log .pb-assistant")).to_have_count(before + 1)
    await expect(page.locator(".pb-log .pb-assistant").last).to_contain_text("wait")
    await expect(chips).to_have_text(["Send a new code", "Cancel"])
    await chips.filter(has_text="Cancel").click()
    await expect(page.locator(".pb-log .pb-assistant")).to_have_count(before + 2)
    await expect(page.locator(".pb-log .pb-assistant").last).not_to_contain_text("code")


async def test_messages_show_author_and_time_and_officer_replies_stand_out(
    page: Page, chat_server: ChatServer
) -> None:
    """Each message is labelled You / Assistant / Privacy officer with a machine-readable time; the labels
    come back after a reload."""
    await page.goto(f"{chat_server.url}/")
    await _say(page, "hello")
    session_id = await _wait_for_socket(page, chat_server)
    await chat_server.channel.deliver(
        OutboundMessage(
            ChannelName.WEB,
            session_id,
            "Ana here, from privacy.",
            meta={AUTHOR_META: OFFICER_AUTHOR},
        )
    )
    officer = page.locator(".pb-log .pb-officer")
    await expect(officer).to_have_count(1)
    for _ in range(2):
        await expect(page.locator(".pb-log .pb-person .pb-author")).to_have_text(["You"])
        await expect(page.locator(".pb-log .pb-assistant .pb-author").first).to_have_text("Assistant")
        await expect(officer.locator(".pb-author")).to_have_text("Privacy officer")
        await expect(officer.locator(".pb-text")).to_have_text("Ana here, from privacy.")
        stamps = await page.locator(".pb-log time").evaluate_all("nodes => nodes.map(n => n.dateTime)")
        assert len(stamps) == 3
        assert all(datetime.fromisoformat(stamp.replace("Z", "+00:00")) for stamp in stamps)
        await page.reload()


async def test_lists_bold_and_quotes_are_formatted_without_markup(
    page: Page, chat_server: ChatServer
) -> None:
    """A reply's "- " lines become a list, **x** bold and "> " a quote, built as elements; markup inside the
    text stays text."""
    await page.goto(f"{chat_server.url}/")
    await _say(page, "hello")
    session_id = await _wait_for_socket(page, chat_server)
    text = "Your requests:\n- **PRV-1** open\n- PRV-2 <b>closed</b>\n> kept for 30 days\nThat is all."
    await chat_server.channel.deliver(OutboundMessage(ChannelName.WEB, session_id, text))
    reply = page.locator(".pb-log .pb-assistant").last
    await expect(reply.locator("ul li")).to_have_text(["PRV-1 open", "PRV-2 <b>closed</b>"])
    await expect(reply.locator("ul li strong")).to_have_text("PRV-1")
    await expect(reply.locator("blockquote")).to_have_text("kept for 30 days")
    await expect(reply.locator("p").last).to_have_text("That is all.")
    assert await reply.locator("b").count() == 0


async def test_policy_quote_is_a_collapsible_block_naming_its_section(
    page: Page, chat_server: ChatServer
) -> None:
    """A policy answer shows the passage in a block headed "Quoted from the policy: <section>" that the
    keyboard folds and unfolds; the quote is not repeated in the reply's text, and it survives a reload."""
    await page.goto(f"{chat_server.url}/")
    await _say(page, "How long do you keep my data?")
    status, body = await chat_server.chat(await _session_id(page), "How long do you keep my data?")
    assert status == 200 and body["quotes"][0]["section"] and body["quotes"][0]["text"]
    for _ in range(2):
        block = page.locator(".pb-log .pb-assistant details.pb-quote").first
        await expect(block.locator("summary")).to_contain_text("Quoted from the policy:")
        await expect(block.locator(".pb-quote-section")).to_have_text(body["quotes"][0]["section"])
        await expect(block.locator("blockquote")).to_contain_text(body["quotes"][0]["text"][:40])
        reply_text = await page.locator(".pb-log .pb-assistant").first.locator(".pb-text").inner_text()
        assert reply_text.count(body["quotes"][0]["text"][:40]) == 1
        was_open = await block.evaluate("node => node.open")
        await block.locator("summary").focus()
        await page.keyboard.press("Enter")
        assert await block.evaluate("node => node.open") is not was_open
        await page.reload()
        await expect(page.locator(".pb-log .pb-assistant")).to_have_count(2)


async def test_thanks_bye_gets_a_goodbye(page: Page, chat_server: ChatServer) -> None:
    """ "thanks, bye" is answered with a goodbye, not with "anything else?"."""
    await page.goto(f"{chat_server.url}/")
    await _say(page, "thanks, bye")
    last = page.locator(".pb-log .pb-assistant").last
    await expect(last).to_contain_text("Goodbye")
    await expect(last).not_to_contain_text("anything else")


async def test_new_conversation_starts_over(page: Page, chat_server: ChatServer) -> None:
    """ "New conversation" clears the log, the chips and the ticket banner, takes a new session, and the new
    conversation starts from the beginning (also after a reload)."""
    await page.goto(f"{chat_server.url}/")
    await _say(page, "/human")
    await expect(page.locator("[data-pb-ticket]")).to_be_visible()
    first = await _session_id(page)
    await page.get_by_role("button", name="New conversation").click()
    await expect(page.locator(".pb-log .pb-msg")).to_have_count(0)
    await expect(page.locator("[data-pb-ticket]")).to_be_hidden()
    await expect(page.locator("[data-pb-announce]")).to_have_text("A new conversation has started.")
    await expect(page.locator("#pb-input")).to_be_focused()
    for _ in range(100):
        if await _session_id(page) not in (first, "None"):
            break
        await page.wait_for_timeout(20)
    assert await _session_id(page) not in (first, "None")
    await _say(page, "hello")
    await expect(page.locator(".pb-log .pb-assistant").last).not_to_contain_text("officer")
    await page.reload()
    await expect(page.locator(".pb-log .pb-person .pb-text")).to_have_text(["hello"])


async def test_language_switch_sends_lang_with_each_message(page: Page, chat_server: ChatServer) -> None:
    """The header's EN / AZ / RU switch is a group of toggle buttons. Until the person picks one, messages
    go without ``lang`` (the server detects it) and the switch shows the language the answer came in; a
    picked language goes with every message as ``lang`` and is remembered after a reload."""
    bodies: list[dict[str, object]] = []

    def keep(request: Request) -> None:
        if request.url.endswith("/api/chat") and request.method == "POST":
            bodies.append(json.loads(request.post_data or "{}"))

    page.on("request", keep)
    await page.goto(f"{chat_server.url}/")
    english = page.get_by_role("button", name="EN English")
    azerbaijani = page.get_by_role("button", name="AZ Azərbaycanca")
    await expect(english).to_have_attribute("aria-pressed", "true")
    await _say(page, "Salam, sabahınız xeyir")
    await expect(azerbaijani).to_have_attribute("aria-pressed", "true")
    await expect(page.locator(".pb-log .pb-assistant").last).to_contain_text("Salam!")
    await page.get_by_role("button", name="RU Русский").click()
    await expect(azerbaijani).to_have_attribute("aria-pressed", "false")
    await _say(page, "hello")
    await expect(page.locator(".pb-log .pb-assistant").last).to_contain_text("Здравствуйте!")
    await page.reload()
    await expect(page.get_by_role("button", name="RU Русский")).to_have_attribute("aria-pressed", "true")
    await english.click()
    await _say(page, "hello")
    assert [body.get("lang") for body in bodies] == [None, "ru", "en"]


async def test_the_widget_words_follow_the_language_of_the_chat(page: Page, chat_server: ChatServer) -> None:
    """A Russian question answered in Russian turns the widget's own words Russian (placeholder, Send, the
    quote heading); switching to AZ turns them, and the labels of messages already shown, Azerbaijani, and
    a reload keeps them."""
    await page.goto(f"{chat_server.url}/")
    await expect(page.locator("[data-pb-send]")).to_have_text("Send")
    await _say(page, "Как долго вы храните мои платёжные данные?")
    await expect(page.locator("#pb-input")).to_have_attribute("placeholder", "Напишите свой вопрос…")
    await expect(page.locator("[data-pb-send]")).to_have_text("Отправить")
    await expect(page.locator(".pb-log .pb-quote-label").first).to_have_text("Цитата из политики:")
    await page.get_by_role("button", name="AZ Azərbaycanca").click()
    for _ in range(2):
        await expect(page.locator("[data-pb-send]")).to_have_text("Göndər")
        await expect(page.get_by_role("button", name="Yeni söhbət")).to_be_visible()
        await expect(page.locator(".pb-log .pb-person .pb-author")).to_have_text(["Siz"])
        await expect(page.locator(".pb-log .pb-quote-label").first).to_have_text("Siyasətdən sitat:")
        assert await page.evaluate("document.documentElement.lang") == "az"
        await page.reload()


async def test_the_embedded_launcher_speaks_the_browsers_language(browser: Browser, shop_site: str) -> None:
    """On a site embedding the widget, a Russian browser sees the launcher and the opened panel in Russian."""
    context = await browser.new_context(locale="ru-RU")
    try:
        page = await context.new_page()
        await page.goto(shop_site)
        launcher = page.locator("[data-pb-bubble]")
        await expect(launcher).to_have_text("Вопросы о конфиденциальности? Напишите нам")
        await launcher.click()
        await expect(page.locator("#pb-input")).to_have_attribute("placeholder", "Напишите свой вопрос…")
        await expect(page.get_by_role("button", name="Закрыть чат")).to_be_visible()
    finally:
        await context.close()


async def test_launcher_has_an_svg_icon_and_no_request_fails(page: Page, shop_site: str) -> None:
    """The embedded launcher shows an SVG icon (no emoji that needs a font); the chat page loads its
    favicon and nothing it asks for answers 404."""
    failed: list[str] = []
    page.on("response", lambda response: failed.append(response.url) if response.status >= 400 else None)
    await page.goto(shop_site)
    launcher = page.locator("[data-pb-bubble]")
    await expect(launcher.locator("svg")).to_have_count(1)
    label = (await launcher.inner_text()).strip()
    assert label == "Privacy questions? Chat with us"
    assert all(ord(char) < 0x2000 for char in label)
    script_src = await page.locator("script[src$='/widget.js']").get_attribute("src")
    assert script_src
    chat_page = script_src.removesuffix("widget.js")
    await page.goto(chat_page)
    await expect(page.locator(".pb-log")).to_be_attached()
    favicon = await page.request.get(chat_page + "favicon.ico")
    assert favicon.status == 200 and favicon.headers["content-type"].startswith("image/svg+xml")
    await page.wait_for_timeout(300)
    assert failed == []


async def test_keyboard_reaches_every_control_in_order(page: Page, chat_server: ChatServer) -> None:
    """From the language switch, Tab walks New conversation, the message box and Send; chips are buttons
    Enter presses."""
    await page.goto(f"{chat_server.url}/")
    await _say(page, "hello")
    await page.get_by_role("button", name="EN English").focus()
    order = []
    for _ in range(12):
        await page.keyboard.press("Tab")
        order.append(
            await page.evaluate("document.activeElement.textContent.trim() || document.activeElement.id")
        )
    assert order[:3] == ["AZ Azərbaycanca", "RU Русский", "New conversation"]
    assert "pb-input" in order and order.index("Send") == order.index("pb-input") + 1
    chip = page.locator(".pb-quick .pb-chip").first
    await chip.focus()
    before = await page.locator(".pb-log .pb-person").count()
    await page.keyboard.press("Enter")
    await expect(page.locator(".pb-log .pb-person")).to_have_count(before + 1)


async def test_axe_finds_no_serious_violation_in_the_chat(
    scriptable_page: Page, chat_server: ChatServer
) -> None:
    """axe-core (WCAG 2.1 A/AA and best practices) reports no serious or critical violation on the chat
    page with a quoted answer, chips, an officer's list reply, a ticket banner and an over-long draft."""
    page = scriptable_page
    await page.goto(f"{chat_server.url}/")
    await _say(page, "How long do you keep my data?")
    await _say(page, "hello")
    session_id = await _wait_for_socket(page, chat_server)
    officer_reply = OutboundMessage(
        ChannelName.WEB,
        session_id,
        "Ana here:\n- **first** point\n- second point",
        ticket_reference="PRV-2345-6789",
        meta={AUTHOR_META: OFFICER_AUTHOR},
    )
    await chat_server.channel.deliver(officer_reply)
    await expect(page.locator("[data-pb-ticket]")).to_be_visible()
    await page.locator("#pb-input").fill("x" * 4500)
    await expect(page.locator("[data-pb-limit]")).to_be_visible()
    violations = await serious_violations(page)
    assert violations == [], describe(violations)


async def test_axe_finds_no_serious_violation_in_the_embedded_widget(
    scriptable_page: Page, shop_site: str
) -> None:
    """axe-core reports no serious or critical violation on a site with the launcher, closed and open."""
    page = scriptable_page
    await page.goto(shop_site)
    await expect(page.locator("[data-pb-bubble]")).to_be_visible()
    assert await serious_violations(page) == []
    await page.locator("[data-pb-bubble]").click()
    await _say(page, "What data do you collect?")
    violations = await serious_violations(page)
    assert violations == [], describe(violations)
