"""The officer desk as an officer sees it in headless Debian chromium: the product name on every page, a
queue sorted by any column with priority and time-left badges, empty states, pages that work with
JavaScript off, a ticket page that prints as a record, and axe-core finding no serious problem."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, expect

from tests.officer.web.conftest import OFFICER_EMAIL, OFFICER_PASSWORD, OfficerServer
from tests.support.accessibility import describe, serious_violations

pytestmark = pytest.mark.browser

PRODUCT = "ZynorLink Privacy desk"


@pytest_asyncio.fixture
async def no_script_page(browser: Browser) -> AsyncIterator[Page]:
    """An officer's page with JavaScript turned off."""
    context = await browser.new_context(java_script_enabled=False)
    context.set_default_timeout(10_000)
    try:
        yield await context.new_page()
    finally:
        await context.close()


async def _sign_in(page: Page, server: OfficerServer) -> None:
    await page.goto(f"{server.url}/officer/login")
    await page.get_by_label("Email").fill(OFFICER_EMAIL)
    await page.get_by_label("Password").fill(OFFICER_PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("h1")).to_have_text("Queue")


async def _urgent_incident(server: OfficerServer) -> str:
    """A suspected account compromise: an urgent ticket opened at once."""
    async with server.http.post(f"{server.url}/api/sessions") as response:
        session_id = str((await response.json())["session_id"])
    text = "someone hacked my account, I see logins that are not mine"
    payload = {"session_id": session_id, "text": text}
    async with server.http.post(f"{server.url}/api/chat", json=payload) as response:
        return str((await response.json())["ticket_reference"])


async def test_every_page_names_the_product(scriptable_page: Page, officer_server: OfficerServer) -> None:
    """The sign-in page, the queue, a ticket and an error page each show the product name in the header
    and the title."""
    page = scriptable_page
    _, reference = await officer_server.open_handoff()
    await page.goto(f"{officer_server.url}/officer/login")
    await expect(page.locator(".brand")).to_have_text(PRODUCT)
    await expect(page.locator(".login .eyebrow")).to_have_text(PRODUCT)
    await _sign_in(page, officer_server)
    for path in ("/officer/", f"/officer/tickets/{reference}", "/officer/tickets/PRV-2222-2222"):
        await page.goto(f"{officer_server.url}{path}")
        await expect(page.locator("header .brand")).to_have_text(PRODUCT)
        assert (await page.title()).endswith(PRODUCT)


async def test_queue_sorts_by_column_and_shows_badges(
    scriptable_page: Page, officer_server: OfficerServer
) -> None:
    """Least time left comes first; the Priority header puts the urgent incident first and, pressed again,
    last; each row has a priority badge and a time-left badge with words, not only colour."""
    page = scriptable_page
    _, handoff = await officer_server.open_handoff()
    urgent = await _urgent_incident(officer_server)
    await _sign_in(page, officer_server)
    rows = page.locator("table.queue tbody tr")
    await expect(rows).to_have_count(2)
    time_header = page.locator("th[aria-sort]")
    await expect(time_header).to_have_text("Time left ↑")
    await expect(time_header).to_have_attribute("aria-sort", "ascending")
    badges = await rows.locator(".priority").all_inner_texts()
    assert sorted(" ".join(badge.split()) for badge in badges) == ["!! Urgent", "Normal"]
    await expect(rows.locator(".mark").first).to_contain_text("h left")

    await page.get_by_role("link", name="Priority").click()
    await expect(page.locator("th[aria-sort]")).to_have_attribute("aria-sort", "ascending")
    assert await rows.evaluate_all("rows => rows.map(r => r.dataset.reference)") == [urgent, handoff]
    await page.get_by_role("link", name="Priority").click()
    await expect(page.locator("th[aria-sort]")).to_have_attribute("aria-sort", "descending")
    assert await rows.evaluate_all("rows => rows.map(r => r.dataset.reference)") == [handoff, urgent]
    assert "sort=-priority" in page.url


async def test_empty_states_say_what_to_do(scriptable_page: Page, officer_server: OfficerServer) -> None:
    """An empty queue says so; a filter that matches nothing offers to show every open ticket."""
    page = scriptable_page
    await _sign_in(page, officer_server)
    await expect(page.locator(".empty-state h2")).to_have_text("The queue is empty")
    await officer_server.open_handoff()
    await page.goto(f"{officer_server.url}/officer/?channel=telegram")
    await expect(page.locator(".empty-state h2")).to_have_text("No tickets match these filters")
    await page.get_by_role("link", name="Show every open ticket").click()
    await expect(page.locator("table.queue tbody tr")).to_have_count(1)


async def test_the_desk_works_without_javascript(no_script_page: Page, officer_server: OfficerServer) -> None:
    """With JavaScript off the officer signs in, filters and sorts the queue, opens a ticket and replies."""
    page = no_script_page
    _, reference = await officer_server.open_handoff()
    await _sign_in(page, officer_server)
    await page.get_by_label("Channel").select_option("web")
    await page.get_by_role("button", name="Apply filters").click()
    await expect(page).to_have_url(f"{officer_server.url}/officer/?kind=&status=&channel=web")
    await page.get_by_role("link", name="Reference").click()
    assert "channel=web" in page.url and "sort=reference" in page.url
    await page.get_by_role("link", name=reference).click()
    await page.get_by_label("Reply to the requester").fill("Hello from the desk, no script needed.")
    await page.get_by_role("button", name="Send reply").click()
    await expect(page.locator(".alert-success")).to_contain_text("Reply sent")


async def test_ticket_page_prints_as_a_record(scriptable_page: Page, officer_server: OfficerServer) -> None:
    """Printed, the ticket page keeps the facts, the whole conversation and the audit trail and drops the
    header, the forms and the buttons."""
    page = scriptable_page
    _, reference = await officer_server.open_handoff()
    await _sign_in(page, officer_server)
    await page.goto(f"{officer_server.url}/officer/tickets/{reference}")
    await page.emulate_media(media="print")
    for hidden in ("header.top", "form.reply", "#actions-title", ".crumbs"):
        await expect(page.locator(hidden)).to_be_hidden()
    for shown in (".facts", ".transcript", ".audit", ".print-footer"):
        await expect(page.locator(shown)).to_be_visible()
    assert await page.locator(".transcript").evaluate("node => getComputedStyle(node).maxHeight") == "none"
    await expect(page.locator(".print-footer")).to_contain_text(reference)
    assert len(await page.pdf()) > 1000


async def test_axe_finds_no_serious_violation_on_the_desk(
    scriptable_page: Page, officer_server: OfficerServer
) -> None:
    """axe-core (WCAG 2.1 A/AA and best practices) reports no serious or critical violation on the sign-in
    page (also after a failed sign-in), the queue (full and empty), a ticket page and an error page."""
    page = scriptable_page
    await page.goto(f"{officer_server.url}/officer/login")
    await page.get_by_label("Email").fill(OFFICER_EMAIL)
    await page.get_by_label("Password").fill("not the password")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator(".alert-error")).to_be_visible()
    found = {"login (failed)": await serious_violations(page)}
    await _sign_in(page, officer_server)
    found["empty queue"] = await serious_violations(page)
    _, reference = await officer_server.open_handoff()
    await _urgent_incident(officer_server)
    for name, path in (
        ("queue", "/officer/"),
        ("sorted queue", "/officer/?sort=-priority"),
        ("ticket", f"/officer/tickets/{reference}"),
        ("error", "/officer/tickets/PRV-2222-2222"),
    ):
        await page.goto(f"{officer_server.url}{path}")
        found[name] = await serious_violations(page)
    problems = {name: describe(violations) for name, violations in found.items() if violations}
    assert problems == {}
