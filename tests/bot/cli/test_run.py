"""`privacybot run`'s options as a user types them: a real subprocess."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import aiohttp

from tests.support.core import MODEL_CACHE
from tests.support.mail_servers import free_port
from tests.support.processes import kill_if_running, stop, wait_healthy

EXE = str(Path(sys.executable).with_name("privacybot"))


def test_run_help_lists_host_and_port() -> None:
    """`privacybot run --help` names the --host and --port options and the settings they override."""
    result = subprocess.run([EXE, "run", "--help"], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert "--host ADDRESS" in result.stdout
    assert "--port" in result.stdout
    assert "PRIVACYBOT_WEB_HOST" in result.stdout
    assert "PRIVACYBOT_WEB_PORT" in result.stdout


def test_run_refuses_a_port_out_of_range() -> None:
    """`privacybot run --port 0` stops with a usage error instead of serving on a random port."""
    result = subprocess.run(
        [EXE, "run", "--port", "0"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2
    assert "--port" in result.stderr


async def test_run_port_option_overrides_the_setting(tmp_path: Path) -> None:
    """`privacybot run --host 127.0.0.1 --port P` serves on P even when PRIVACYBOT_WEB_PORT names another."""
    port, ignored = free_port(), free_port()
    env = {
        **os.environ,
        "PRIVACYBOT_DATA_DIR": str(tmp_path),
        "PRIVACYBOT_MODEL_CACHE_DIR": str(MODEL_CACHE),
        "PRIVACYBOT_WEB_HOST": "0.0.0.0",
        "PRIVACYBOT_WEB_PORT": str(ignored),
    }
    process = await asyncio.create_subprocess_exec(
        EXE,
        "run",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        await wait_healthy(f"http://127.0.0.1:{port}", process)
        async with aiohttp.ClientSession() as http:
            try:
                await http.get(f"http://127.0.0.1:{ignored}/healthz")
            except aiohttp.ClientConnectionError:
                pass
            else:
                raise AssertionError("the server also answers on PRIVACYBOT_WEB_PORT")
        output = await stop(process)
    finally:
        await kill_if_running(process)
    assert process.returncode == 0, output.decode(errors="replace")
