"""Headless Debian chromium driven by Playwright's async API (never Playwright's downloaded browsers).

Fixtures (function scope, so every object lives on the test's own event loop):

* ``browser`` -> ``playwright.async_api.Browser`` launched from ``/usr/bin/chromium``.
* ``page`` -> a fresh ``Page`` in its own ``BrowserContext`` (closed after the test).
* ``scriptable_page`` -> the same, with the pages' CSP bypassed so a test can inject axe-core.

``serving_page(html)`` serves a page of "another site" (one that embeds the widget).
"""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest_asyncio
from aiohttp import web
from playwright.async_api import Browser, Page, async_playwright

CHROMIUM = Path("/usr/bin/chromium")
ENSURE_PACKAGES = Path(__file__).with_name("ensure_packages.sh")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def ensure_chromium() -> Path:
    """Return the chromium path, installing Debian's package via ``ensure_packages.sh`` when it is missing."""
    if not CHROMIUM.exists():
        subprocess.run(["bash", str(ENSURE_PACKAGES)], check=True, stdin=subprocess.DEVNULL, timeout=900)
    return CHROMIUM


@pytest_asyncio.fixture
async def browser() -> AsyncIterator[Browser]:
    """Yield a headless chromium controlled through Playwright."""
    executable = ensure_chromium()
    async with async_playwright() as playwright:
        instance = await playwright.chromium.launch(
            executable_path=str(executable), args=CHROMIUM_ARGS, headless=True, timeout=30_000
        )
        try:
            yield instance
        finally:
            await instance.close()


@pytest_asyncio.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    """Yield a fresh page in a new browser context (no cookies or storage shared between tests)."""
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    try:
        yield await context.new_page()
    finally:
        await context.close()


@pytest_asyncio.fixture
async def scriptable_page(browser: Browser) -> AsyncIterator[Page]:
    """Like ``page``, but the page's CSP does not apply, so a test may inject a script (axe-core)."""
    context = await browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    context.set_default_timeout(10_000)
    try:
        yield await context.new_page()
    finally:
        await context.close()


@asynccontextmanager
async def serving_page(html: str) -> AsyncIterator[str]:
    """Serve ``html`` at ``/`` of its own loopback port (another site's origin); yields the page's URL."""

    async def handler(request: web.Request) -> web.Response:
        return web.Response(text=html, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/"
    finally:
        await runner.cleanup()
