"""A `privacybot run` subprocess in a test: wait until it serves, stop it as an operator would."""

from __future__ import annotations

import asyncio
import signal

import aiohttp


async def wait_healthy(url: str, process: asyncio.subprocess.Process | None = None) -> dict[str, str]:
    """Poll ``url``/healthz until it answers 200 (a minute at most, and not after ``process`` ended); its
    JSON."""
    async with asyncio.timeout(60), aiohttp.ClientSession() as http:
        while process is None or process.returncode is None:
            try:
                async with http.get(f"{url}/healthz") as response:
                    if response.status == 200:
                        return dict(await response.json())
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"the process ended with {process.returncode} before serving {url}")


async def stop(process: asyncio.subprocess.Process) -> bytes:
    """Send SIGTERM and return everything the process printed once it ended (20 s at most)."""
    process.send_signal(signal.SIGTERM)
    output, _ = await asyncio.wait_for(process.communicate(), timeout=20)
    return output


async def kill_if_running(process: asyncio.subprocess.Process) -> None:
    """Kill ``process`` if it is still running (after a test failed half-way)."""
    if process.returncode is None:
        process.kill()
        await process.wait()
