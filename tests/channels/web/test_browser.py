"""The web chat in headless Debian chromium: a person asks, makes a rights request, types the mailed code
and sees the ticket reference; the page survives a reload; the widget embeds on another site."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, ViewportSize, expect

from bot.domain.channels import ChannelName
from bot.messages import OutboundMessage
from tests.channels.web.conftest import ChatServer
from tests.support.mail_servers import SmtpServer, extract_code

pytestmark = pytest.mark.browser

REFERENCE = re.compile(r"^PRV-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}$")
PHONE = ViewportSize(width=390, height=844)


async def _say(page: Page, text: str) -> None:
    """Type ``text`` in the chat box and press Enter; wait until the assistant answered it."""
    answers = page.locator(".pb-log .pb-assistant")
    before = await answers.count()
    await page.locator("#pb-input").fill(text)
    await page.locator("#pb-input").press("Enter")
    await expect(answers).not_to_have_count(before, timeout=10_000)
    await expect(page.locator(".pb-log .pb-pending")).to_have_count(0)


async def test_question_rights_request_code_and_ticket(
    page: Page, chat_server: ChatServer, smtp_server: SmtpServer
) -> None:
    """Ask a policy question and read the answer; pick "Delete my account", give the email, type the code
    from the mail and see the ticket reference shown clearly, on a phone-sized page."""
    await page.set_viewport_size(PHONE)
    await page.goto(f"{chat_server.url}/")
    await _say(page, "How long do you keep my data?")
    await expect(page.locator(".pb-log .pb-assistant").last).to_contain_text("privacy policy")

    await _say(page, "hello")
    chip = page.locator(".pb-quick .pb-chip", has_text="Delete my account")
    await expect(chip).to_be_visible()
    before = await page.locator(".pb-log .pb-assistant").count()
    await chip.click()
    await expect(page.locator(".pb-log .pb-assistant")).not_to_have_count(before)
    await expect(page.locator(".pb-log .pb-assistant").last).to_contain_text("email address")

    await _say(page, "sam@example.test")
    mail = (await smtp_server.sink.wait_for(lambda m: "sam@example.test" in m.rcpt_tos))[0]
    await _say(page, extract_code(mail))

    banner = page.locator("[data-pb-ticket]")
    await expect(banner).to_be_visible()
    reference = (await page.locator("[data-pb-ticket-ref]").text_content() or "").strip()
    assert REFERENCE.match(reference), reference
    await expect(page.locator(".pb-log .pb-assistant").last).to_contain_text(reference)

    await page.reload()  # the session and its conversation come back from the server
    await expect(page.locator(".pb-log .pb-person")).to_have_count(5)
    await expect(page.locator("[data-pb-ticket-ref]")).to_have_text(reference)


async def test_user_text_is_shown_as_text_never_as_markup(page: Page, chat_server: ChatServer) -> None:
    """Markup typed by a person appears literally; no element is created from it."""
    await page.goto(f"{chat_server.url}/")
    attack = "<img src=x onerror=\"document.title='owned'\"><b>bold</b>"
    await _say(page, attack)
    await expect(page.locator(".pb-log .pb-person .pb-text").last).to_have_text(attack)
    assert await page.locator(".pb-log img, .pb-log b").count() == 0
    assert await page.title() != "owned"


async def test_officer_reply_is_pushed_to_the_open_page(page: Page, chat_server: ChatServer) -> None:
    """A message delivered later appears on the open page without a reload."""
    await page.goto(f"{chat_server.url}/")
    await _say(page, "hello")
    session_id = await page.evaluate("JSON.parse(localStorage.getItem('privacybot.session'))")
    for _ in range(100):
        if chat_server.channel._hub.open_pages(session_id):
            break
        await page.wait_for_timeout(20)
    await chat_server.channel.deliver(OutboundMessage(ChannelName.WEB, session_id, "Hello from the officer."))
    await expect(page.locator(".pb-log .pb-assistant .pb-text").last).to_have_text("Hello from the officer.")


async def test_widget_embeds_on_another_site(page: Page, shop_site: str) -> None:
    """One script tag gives another site a chat bubble; the keyboard opens it, chats, and Escape closes it."""
    await page.goto(shop_site)
    bubble = page.locator("[data-pb-bubble]")
    await expect(bubble).to_be_visible()
    await expect(bubble).to_have_attribute("aria-expanded", "false")
    await bubble.focus()
    await page.keyboard.press("Enter")
    await expect(bubble).to_have_attribute("aria-expanded", "true")
    await expect(page.locator("#pb-input")).to_be_focused()
    await _say(page, "Do you sell my data?")
    await expect(page.locator(".pb-log .pb-assistant").last).not_to_be_empty()
    await page.keyboard.press("Escape")
    await expect(page.locator("[data-privacybot-panel]")).to_be_hidden()
    await expect(bubble).to_be_focused()
