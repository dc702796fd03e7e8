"""The running process: `run_application` wires and serves everything, and stops cleanly."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import aiohttp

from bot.runner import run_application
from tests.support.core import MODEL_CACHE, make_settings
from tests.support.mail_servers import free_port
from tests.support.processes import kill_if_running, stop, wait_healthy

VENV_BIN = Path(sys.executable).parent


async def test_run_application_serves_until_stopped(tmp_path: Path) -> None:
    """run_application starts the server on the configured port; setting stop_event ends it cleanly."""
    port = free_port()
    settings = make_settings(tmp_path, web_port=port, sweep_interval_seconds=0.2)
    stop = asyncio.Event()
    task = asyncio.create_task(run_application(settings, stop_event=stop))
    try:
        health = await wait_healthy(f"http://127.0.0.1:{port}")
        assert health == {"status": "ok", "database": "ok", "redis": "not_configured"}
        assert (tmp_path / "privacybot.sqlite3").exists()
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=15)
    assert task.exception() is None
    async with aiohttp.ClientSession() as http:
        try:
            await http.get(f"http://127.0.0.1:{port}/healthz")
        except aiohttp.ClientConnectionError:
            pass
        else:
            raise AssertionError("the server still answers after stop")


async def test_privacybot_run_exits_zero_on_sigterm(tmp_path: Path) -> None:
    """`privacybot run` serves the web chat and exits 0 when it receives SIGTERM."""
    port = free_port()
    env = {
        **os.environ,
        "PRIVACYBOT_DATA_DIR": str(tmp_path),
        "PRIVACYBOT_MODEL_CACHE_DIR": str(MODEL_CACHE),
        "PRIVACYBOT_WEB_PORT": str(port),
    }
    process = await asyncio.create_subprocess_exec(
        str(VENV_BIN / "privacybot"),
        "run",
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        await wait_healthy(f"http://127.0.0.1:{port}")
        output = await stop(process)
    finally:
        await kill_if_running(process)
    assert process.returncode == 0, output.decode(errors="replace")
    assert b"stopped" in output
