"""Take the README's screenshots again: ``python -m tests.support.screenshots`` (or ``make screenshots``).

Starts the real web chat and officer workspace on a temporary SQLite database, has a few people talk to the
assistant (questions, rights requests with their mailed codes, handoffs, some of them days ago so the queue
shows every SLA state), then photographs in Debian's chromium:

* docs/screenshots/widget-desktop.png: the embedded widget, open on a sample site (1280 x 800);
* docs/screenshots/widget-mobile.png: the chat on a 390 px wide phone;
* docs/screenshots/officer-queue.png: the officer's queue;
* docs/screenshots/officer-ticket.png: a ticket page.

Nothing leaves the machine: mail is kept in memory, the browser talks to 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from playwright.async_api import Page, async_playwright

from bot.app import build_core
from bot.channels.web import WebChannel, build_web_channel
from bot.channels.web.handlers import SERVICES_KEY
from bot.channels.web.history import SqlWebHistory
from bot.deliveries import Deliveries
from bot.domain.channels import ChannelName
from bot.domain.clock import SystemClock
from bot.messages import AUTHOR_META, OFFICER_AUTHOR, OutboundMessage
from bot.officer.workspace import OfficerWorkspace, build_officer_workspace
from bot.settings import PROJECT_ROOT, Settings
from bot.store.db import create_sessionmaker, engine_from_settings
from bot.store.migrate import upgrade_database
from bot.tickets.desk import sql_turn_store_factory
from tests.support.browser import CHROMIUM_ARGS, ensure_chromium, serving_page
from tests.support.mail_servers import extract_code
from tests.support.outbox import mail_outbox
from tests.tickets.helpers import RecordingMailSender

OUT = PROJECT_ROOT / "docs" / "screenshots"
OFFICER = ("ana@zynorlink.example", "a demo password for screenshots", "Ana Lindqvist")
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


class ShiftedClock:
    """The real clock moved back by ``offset``: tickets opened "days ago" for the queue's SLA states."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        """Now, minus the offset."""
        return datetime.now(UTC) - self.offset


@dataclass
class Demo:
    """The running server and what the script needs of it."""

    channel: WebChannel
    workspace: OfficerWorkspace
    mail: RecordingMailSender
    clock: ShiftedClock
    http: aiohttp.ClientSession

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return self.channel.url

    async def session(self) -> str:
        """A new chat session id."""
        async with self.http.post(f"{self.url}/api/sessions") as response:
            return str((await response.json())["session_id"])

    async def say(self, session_id: str, text: str) -> dict[str, Any]:
        """One chat message; the JSON answer."""
        payload = {"session_id": session_id, "text": text}
        async with self.http.post(f"{self.url}/api/chat", json=payload) as response:
            return dict(await response.json())

    async def request(self, what: str, address: str) -> str:
        """A rights request, verified with the mailed code; its ticket reference."""
        session_id = await self.session()
        await self.say(session_id, what)
        await self.say(session_id, address)
        answer = await self.say(session_id, extract_code(self.mail.sent[-1]))
        return str(answer["ticket_reference"])


@asynccontextmanager
async def running_demo(data_dir: Path) -> AsyncIterator[Demo]:
    """The web chat and the officer workspace on one port, over SQLite in ``data_dir``."""
    settings = Settings(
        data_dir=data_dir,
        web_port=0,
        model_cache_dir=PROJECT_ROOT / "var" / "models",
        rate_limit_per_minute=10_000,
    )
    core = await asyncio.to_thread(build_core, settings)
    engine = engine_from_settings(settings)
    await upgrade_database(engine)
    sessionmaker = create_sessionmaker(engine)
    mail, clock = RecordingMailSender(), ShiftedClock()
    codes = mail_outbox(sessionmaker, clock, mail, core.responses, mail_from=settings.mail_from)
    stores = sql_turn_store_factory(sessionmaker, clock, settings, core.responses, after_commit=codes.flush)
    channel = build_web_channel(
        settings, core.conversation(stores).handle, SqlWebHistory(sessionmaker), core.responses
    )
    deliveries = Deliveries()
    deliveries.register(channel)
    workspace = build_officer_workspace(
        settings,
        sessionmaker=sessionmaker,
        clock=SystemClock(),
        responses=core.responses,
        deliveries=deliveries,
        mail_sender=mail,
        web_app=channel.app,
        openapi_document=channel.app[SERVICES_KEY].openapi,
    )
    email, password, name = OFFICER
    await workspace.accounts.add(email, password, name=name)
    await channel.start()
    try:
        async with aiohttp.ClientSession() as http:
            yield Demo(channel, workspace, mail, clock, http)
    finally:
        await channel.stop()
        await engine.dispose()


async def seed_queue(demo: Demo) -> str:
    """Tickets in every SLA state and priority; returns the reference of the one to photograph."""
    demo.clock.offset = timedelta(days=3)  # first response overdue
    await demo.request("Please delete my account and all my data", "mira.k@example.test")
    handoff = await demo.session()
    await demo.say(handoff, "/human")
    demo.clock.offset = timedelta(hours=34)  # due within a day
    await demo.request("I think someone hacked my account, I see logins I don't know", "li.wei@example.test")
    await demo.request("stop sending me marketing emails", "sam.r@example.test")
    demo.clock.offset = timedelta(hours=2)
    await demo.request("my address on file is wrong, please correct it", "noor@example.test")
    talk = await demo.session()
    await demo.say(talk, "Can I talk to a person about a charge on my account?")
    await demo.say(talk, "/human")
    demo.clock.offset = timedelta()  # the photographed ticket: its messages and deadlines agree
    return await demo.request("I'd like a copy of all the data you hold about me", "jonas@example.test")


async def widget_desktop(page: Page, demo: Demo, site: str) -> None:
    """The embedded widget open over a sample site, after a question and an officer's reply."""
    await page.goto(site)
    await page.locator("[data-pb-bubble]").click()
    await _say(page, "How long do you keep my data?")
    await _say(page, "what data do you collect about me?")
    session_id = await page.evaluate("JSON.parse(localStorage.getItem('privacybot.session'))")
    await _wait_for_socket(page, demo, session_id)
    await demo.channel.deliver(
        OutboundMessage(
            ChannelName.WEB,
            session_id,
            "Hi, Ana from the privacy team here. To help you quickly:\n"
            "- **Account data** is kept while your account is open\n"
            "- **Support chats** are deleted after 12 months",
            meta={AUTHOR_META: OFFICER_AUTHOR},
        )
    )
    await page.wait_for_timeout(400)
    await page.locator("#pb-input").blur()
    await page.screenshot(path=str(OUT / "widget-desktop.png"))


async def widget_mobile(page: Page, demo: Demo) -> None:
    """The chat page on a phone, in the middle of a rights request."""
    await page.goto(f"{demo.url}/")
    await _say(page, "hello")
    await _say(page, "I want to delete my account")
    await _say(page, "kim@example.test")
    await page.wait_for_timeout(300)
    await page.locator("#pb-input").blur()
    await page.screenshot(path=str(OUT / "widget-mobile.png"))


async def officer_pages(page: Page, demo: Demo, reference: str) -> None:
    """Sign in, photograph the queue and one ticket page."""
    email, password, _ = OFFICER
    await page.goto(f"{demo.url}/officer/login")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await page.locator("table.queue").wait_for()
    await page.screenshot(path=str(OUT / "officer-queue.png"))
    await page.goto(f"{demo.url}/officer/tickets/{reference}")
    await page.get_by_label("Reply to the requester").fill(
        "Hello Jonas, your export is being prepared; you will get a download link by email."
    )
    await page.screenshot(path=str(OUT / "officer-ticket.png"), full_page=True)


async def _say(page: Page, text: str) -> None:
    answers = page.locator(".pb-log .pb-assistant")
    before = await answers.count()
    await page.locator("#pb-input").fill(text)
    await page.locator("#pb-input").press("Enter")
    for _ in range(200):
        if await answers.count() > before and not await page.locator(".pb-log .pb-pending").count():
            return
        await page.wait_for_timeout(50)
    raise TimeoutError(f"no answer to {text!r}")


async def _wait_for_socket(page: Page, demo: Demo, session_id: str) -> None:
    for _ in range(100):
        if demo.channel._hub.open_pages(session_id):
            return
        await page.wait_for_timeout(20)


_SHOP = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Northwind Outfitters</title>
<style>body{margin:0;font:16px/1.5 Georgia,serif;color:#2b2b2b;background:#faf7f2}
header{padding:18px 48px;background:#2f3e34;color:#f4efe6;font:600 20px system-ui,sans-serif}
main{padding:48px;max-width:760px}h1{font-size:40px;margin:0 0 12px}p{color:#555}
.tiles{display:grid;grid-template-columns:repeat(3,1fr);gap:18px;margin-top:32px}
.tiles div{height:150px;border-radius:10px;background:linear-gradient(135deg,#d9cbb3,#b9a888)}</style></head>
<body><header>Northwind Outfitters</header><main><h1>Gear for the long way round</h1>
<p>Jackets, packs and boots tested on real trails. Free returns within 60 days.</p>
<div class="tiles"><div></div><div></div><div></div></div></main>
<script src="{chat}/widget.js" async></script></body></html>"""


async def main() -> None:
    """Seed the demo, take the four screenshots, print where they are."""
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="screenshots-") as tmp:
        async with running_demo(Path(tmp)) as demo, serving_page(_SHOP.replace("{chat}", demo.url)) as site:
            reference = await seed_queue(demo)
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(
                    executable_path=str(ensure_chromium()), args=CHROMIUM_ARGS, headless=True
                )
                try:
                    for viewport, shoot in (
                        (DESKTOP, lambda p: widget_desktop(p, demo, site)),
                        (PHONE, lambda p: widget_mobile(p, demo)),
                        (DESKTOP, lambda p: officer_pages(p, demo, reference)),
                    ):
                        context = await browser.new_context(viewport=viewport, device_scale_factor=1)
                        context.set_default_timeout(15_000)
                        await shoot(await context.new_page())
                        await context.close()
                finally:
                    await browser.close()
    for path in sorted(OUT.glob("*.png")):
        print(path.relative_to(PROJECT_ROOT))


if __name__ == "__main__":
    asyncio.run(main())
