"""The client address of a request: X-Forwarded-For only through a proxy named as trusted."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest
from aiohttp import web

from bot.http.clients import ClientAddresses, parse_networks
from bot.settings import Settings

Ask = Callable[..., Awaitable[str]]


async def _serve(clients: ClientAddresses) -> tuple[web.AppRunner, str]:
    async def echo(request: web.Request) -> web.Response:
        return web.Response(text=clients.of(request))

    app = web.Application()
    app.router.add_get("/", echo)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/"


@pytest.fixture
async def ask() -> AsyncIterator[Callable[[tuple[str, ...]], Awaitable[Ask]]]:
    """Start a real server that answers with the client address it read, trusting the given proxies."""
    runners: list[web.AppRunner] = []

    async def start(proxies: tuple[str, ...]) -> Ask:
        runner, url = await _serve(ClientAddresses(parse_networks(proxies)))
        runners.append(runner)

        async def get(forwarded: str | None = None) -> str:
            headers = {"X-Forwarded-For": forwarded} if forwarded else {}
            async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as response:
                return await response.text()

        return get

    yield start
    for runner in runners:
        await runner.cleanup()


async def test_forwarded_for_from_an_untrusted_peer_is_ignored(
    ask: Callable[[tuple[str, ...]], Awaitable[Ask]],
) -> None:
    """Regression guard: without trusted proxies anyone could pick a fresh address per try by header."""
    get = await ask(())
    assert await get("203.0.113.5") == "127.0.0.1"
    get = await ask(("10.0.0.0/8",))
    assert await get("203.0.113.5") == "127.0.0.1"


async def test_trusted_proxy_names_the_client_right_of_our_proxies(
    ask: Callable[[tuple[str, ...]], Awaitable[Ask]],
) -> None:
    """Through a trusted proxy the rightmost hop that is not ours is the client; spoofed hops left of it
    and a garbled hop do not count."""
    get = await ask(("127.0.0.1", "10.0.0.0/8"))
    assert await get("203.0.113.5") == "203.0.113.5"
    assert await get("1.2.3.4, 203.0.113.5, 10.1.2.3") == "203.0.113.5"
    assert await get("203.0.113.5, not-an-ip") == "127.0.0.1"
    assert await get() == "127.0.0.1"


def test_bad_proxy_setting_is_refused() -> None:
    """A value that is not an address or network fails at start-up, naming it."""
    with pytest.raises(ValueError, match=r"proxy\.example"):
        Settings(testing=True, trusted_proxies="127.0.0.1,proxy.example")
