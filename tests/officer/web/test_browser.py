"""The officer dashboard in headless Debian chromium, next to a person's open web chat."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, Page, expect

from tests.officer.web.conftest import OFFICER_EMAIL, OFFICER_PASSWORD, OfficerServer

pytestmark = pytest.mark.browser

ATTACK = "<img src=x onerror=\"document.title='owned'\"><b>bold</b>"


async def _say(page: Page, text: str) -> None:
    """Type ``text`` in the person's chat and send it; wait until the page shows it as sent."""
    await page.locator("#pb-input").fill(text)
    await page.locator("#pb-input").press("Enter")
    await expect(page.locator(".pb-log .pb-pending")).to_have_count(0)


async def _sign_in(page: Page, server: OfficerServer) -> None:
    await page.goto(f"{server.url}/officer/")
    await expect(page).to_have_url(f"{server.url}/officer/login")
    await page.get_by_label("Email").fill(OFFICER_EMAIL)
    await page.get_by_label("Password").fill(OFFICER_PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("h1")).to_have_text("Queue")


async def test_officer_replies_and_the_open_chat_page_shows_it(
    browser: Browser, page: Page, officer_server: OfficerServer
) -> None:
    """A web-chat person asks for a human and writes HTML; the officer signs in, finds the ticket in the
    queue, sees the HTML as text, replies; the person's open page shows the reply without reloading."""
    person = page
    await person.goto(f"{officer_server.url}/")
    await _say(person, "/human")
    await expect(person.locator(".pb-log .pb-assistant").last).to_contain_text("PRV-")
    await _say(person, ATTACK)

    context = await browser.new_context()
    officer = await context.new_page()
    try:
        await _sign_in(officer, officer_server)
        row = officer.locator("table.queue tbody tr").first
        reference = await row.get_attribute("data-reference")
        assert reference and reference.startswith("PRV-")
        await row.get_by_role("link", name=reference).click()
        await expect(officer.locator("h1")).to_contain_text(reference)
        shown = officer.locator(".transcript .msg-in .text", has_text="bold")
        await expect(shown).to_have_text(ATTACK)
        assert await officer.locator(".transcript img, .transcript b").count() == 0
        assert await officer.title() != "owned"

        await officer.get_by_label("Reply to the requester").fill("Hello, this is Ana from privacy.")
        await officer.get_by_role("button", name="Send reply").click()
        await expect(officer.locator(".alert-success")).to_contain_text("Reply sent")
        await expect(person.locator(".pb-log .pb-officer").last).to_contain_text(
            "Hello, this is Ana from privacy."
        )
        await expect(person.locator(".pb-log .pb-officer .pb-author").last).to_have_text("Privacy officer")

        await officer.get_by_role("button", name="End handoff").click()
        await expect(officer.locator(".alert-success")).to_contain_text("Handoff ended")
        await expect(person.locator(".pb-log .pb-msg").last).to_contain_text("assistant again")
    finally:
        await context.close()


async def test_a_form_post_without_the_csrf_token_is_refused(
    browser: Browser, officer_server: OfficerServer
) -> None:
    """A signed-in officer's browser posting a reply without (or with a wrong) CSRF token gets 403 and
    nothing is sent."""
    _, reference = await officer_server.open_handoff()
    context = await browser.new_context()
    officer = await context.new_page()
    try:
        await _sign_in(officer, officer_server)
        url = f"{officer_server.url}/officer/tickets/{reference}/reply"
        missing = await officer.request.post(url, form={"text": "forged"}, max_redirects=0)
        wrong = await officer.request.post(
            url, form={"text": "forged", "csrf_token": "x" * 43}, max_redirects=0
        )
        assert (missing.status, wrong.status) == (403, 403)
        page = await officer_server.workspace.desk.page(reference)
        assert page is not None and page.item.ticket.first_response_at is None
        cookies = {c["name"]: c for c in await context.cookies()}
        session = cookies["pb_officer"]
        assert session["httpOnly"] and session["sameSite"] == "Strict"
    finally:
        await context.close()


async def test_live_inbox_updates_without_reloading(
    browser: Browser, page: Page, officer_server: OfficerServer
) -> None:
    """With the queue open, a new ticket appears marked unread without a reload; on its page the person's
    next message arrives live, each line is labelled person / assistant / officer, the newest is in view,
    a refused rejection is explained on the status form, and a closed ticket shows no countdown."""
    context = await browser.new_context()
    officer = await context.new_page()
    try:
        await _sign_in(officer, officer_server)
        await expect(officer.locator("body")).to_have_attribute("data-live", "on")
        person = page
        await person.goto(f"{officer_server.url}/")
        await _say(person, "/human")
        row = officer.locator("table.queue tbody tr.unread")
        await expect(row).to_have_count(1, timeout=10_000)
        reference = await row.first.get_attribute("data-reference")
        assert reference and reference.startswith("PRV-")
        await expect(row.first.locator(".unread-marker")).to_have_text("\u25cf")

        await row.first.get_by_role("link", name=reference).click()
        await expect(officer.locator("h1")).to_contain_text(reference)
        await _say(person, "hello? anyone there?")
        asked = officer.locator("#transcript .author-person", has_text="hello? anyone there?")
        await expect(asked).to_have_count(1, timeout=10_000)
        newest = officer.locator("#transcript li").last
        await expect(newest).to_contain_text("passed your message to our privacy officer")
        await expect(officer.locator("#transcript .author-person").first).to_contain_text("person")
        await expect(officer.locator("#transcript .author-assistant").first).to_contain_text("assistant")
        await expect(newest).to_be_in_viewport()

        await officer.get_by_label("Reply to the requester").fill("I'm here, how can I help?")
        await officer.get_by_role("button", name="Send reply").click()
        await expect(officer.locator("#transcript .author-officer").last).to_contain_text("officer")

        await officer.locator("select[name=status]").select_option("rejected")
        await officer.get_by_role("button", name="Change status").click()
        await expect(officer.locator(".form-error")).to_contain_text("A rejection needs a reason")
        await expect(officer.locator("h1")).to_contain_text(reference)

        await officer.locator("select[name=status]").select_option("resolved")
        await officer.get_by_role("button", name="Change status").click()
        await expect(officer.locator("#facts")).to_contain_text("closed")
        assert "left" not in await officer.locator("#facts").inner_text()
        assert "overdue" not in await officer.locator("#facts").inner_text()
        await officer.goto(f"{officer_server.url}/officer/?status=resolved")
        await expect(officer.locator(f"tr[data-reference='{reference}']")).to_contain_text("closed")
    finally:
        await context.close()


async def test_queue_counters_follow_the_live_rows(
    browser: Browser, page: Page, officer_server: OfficerServer
) -> None:
    """Regression: a new ticket appeared live in the queue while the header still counted the rows of the
    page load. The deadline counters are re-read with the rows from the same live event."""
    context = await browser.new_context()
    officer = await context.new_page()
    try:
        await _sign_in(officer, officer_server)
        await expect(officer.locator("body")).to_have_attribute("data-live", "on")
        counts = officer.locator("#queue-counts")
        before = await counts.inner_text()
        rows_before = await officer.locator("table.queue tbody tr[data-reference]").count()
        await page.goto(f"{officer_server.url}/")
        await _say(page, "/human")
        await expect(officer.locator("table.queue tbody tr.unread")).to_have_count(1, timeout=10_000)
        await expect(counts).not_to_have_text(before, timeout=10_000)
        numbers = [int(n) for n in re.findall(r"\d+", (await counts.inner_text()).replace("24 h", ""))]
        assert sum(numbers) == rows_before + 1
    finally:
        await context.close()
