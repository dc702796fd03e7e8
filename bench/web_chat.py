"""Web chat under load: 50 concurrent sessions over HTTP against a real `privacybot run` (its own process, a
free loopback port, SQLite in a temp dir, or the database given with ``--database-url``). Prints messages
per second, p50/p99 latency and how many messages were lost or failed (every sent message_id must be in the
session's stored history exactly once).

Two runs: "paced" (people: a pause between messages, the target p99 <= 50 ms applies) and "saturated"
(each session sends its next message as soon as the reply arrives: the server's throughput ceiling).
Each line also gives the load average and the CPU the load generator and the server used. Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bench.core import percentile
from bot.settings import PROJECT_ROOT
from nlu.engines.rasa_server import free_loopback_port

MESSAGES = [
    "hi",
    "How long do you keep my data?",
    "do you sell my data to advertisers",
    "what data do you collect about me?",
    "who is your privacy officer?",
    "is my data transferred abroad?",
    "how do you protect my data",
    "thanks!",
    "what are my rights?",
    "do you use cookies?",
]
P99_TARGET_MS = 50.0


@dataclass
class RunFigures:
    """What one run measured."""

    latencies_ms: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)  # why: "HTTP 502", an exception's name
    replies: int = 0  # replies answered to the clients (bench.cluster compares them with the stored ones)
    sent_ids: dict[str, list[str]] = field(default_factory=dict)

    @property
    def failed(self) -> int:
        """Requests the client was not answered with a reply."""
        return sum(self.failures.values())

    def failure_reasons(self) -> str:
        """``" (HTTP 502 x1)"``, or nothing when none failed."""
        if not self.failures:
            return ""
        return " (" + ", ".join(f"{why} x{n}" for why, n in self.failures.most_common()) + ")"


async def start_server(
    data_dir: Path, port: int, database_url: str | None = None
) -> asyncio.subprocess.Process:
    """`privacybot run` on ``port`` with SQLite under ``data_dir`` (or ``database_url``); returns once
    /healthz answers."""
    env = {
        **os.environ,
        "PRIVACYBOT_DATA_DIR": str(data_dir),
        "PRIVACYBOT_MODEL_CACHE_DIR": str(PROJECT_ROOT / "var" / "models"),
        "PRIVACYBOT_WEB_PORT": str(port),
        "PRIVACYBOT_RATE_LIMIT_PER_MINUTE": "1000000",
        "PRIVACYBOT_LOG_LEVEL": "WARNING",
    }
    if database_url:
        env["PRIVACYBOT_DATABASE_URL"] = database_url
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, stdin=subprocess.DEVNULL, cwd=str(PROJECT_ROOT)
    )
    async with asyncio.timeout(120), aiohttp.ClientSession() as http:
        while True:
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        return process
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.2)


async def one_session(
    http: aiohttp.ClientSession, url: str, messages: int, think: float, figures: RunFigures
) -> None:
    """Open a session and send ``messages`` messages, pausing about ``think`` seconds between them."""
    async with http.post(f"{url}/api/sessions") as response:
        session_id = (await response.json())["session_id"]
    sent = figures.sent_ids.setdefault(session_id, [])
    rng = random.Random(session_id)
    await asyncio.sleep(rng.uniform(0, think))  # people do not all start typing at once
    for _ in range(messages):
        message_id = uuid.uuid4().hex
        payload = {"session_id": session_id, "text": rng.choice(MESSAGES), "message_id": message_id}
        started = time.perf_counter()
        failure = None
        try:
            async with http.post(f"{url}/api/chat", json=payload) as response:
                if response.status != 200:
                    failure = f"HTTP {response.status}"
                else:
                    replies = (await response.json()).get("replies") or ()
                    figures.replies += len(replies)
                    failure = None if replies else "no reply"
        except aiohttp.ClientError as exc:
            failure = type(exc).__name__
        figures.latencies_ms.append((time.perf_counter() - started) * 1000)
        sent.append(message_id)
        if failure:
            figures.failures[failure] += 1
        if think:
            await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think))


async def count_lost(http: aiohttp.ClientSession, url: str, figures: RunFigures) -> int:
    """Messages whose text is missing from the stored history (compared by count per session)."""
    lost = 0
    for session_id, ids in figures.sent_ids.items():
        async with http.get(f"{url}/api/sessions/{session_id}/messages") as response:
            if response.status != 200:
                lost += len(ids)  # counted as lost: the history could not be read
                continue
            history = (await response.json())["messages"]
        stored = sum(message["author"] == "person" for message in history)
        lost += max(0, len(ids) - stored)
    return lost


def cpu_seconds(pid: int | None = None) -> float:
    """CPU time (user + system) of this process, or of process ``pid`` (Linux's /proc)."""
    if pid is None:
        return time.process_time()
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run(
    url: str, sessions: int, messages: int, think: float, label: str, server_pid: int | None = None
) -> bool:
    """One load run; prints its figures, the machine's load average and the CPU the load generator (this
    process, one aiohttp client, a keep-alive connection per session) and the server used, each as a share
    of one core: a generator near 100 % would be the bottleneck. Returns whether p99 met the target with
    nothing lost."""
    figures = RunFigures()
    connector = aiohttp.TCPConnector(limit=sessions * 2)
    client_cpu = cpu_seconds()
    server_cpu = cpu_seconds(server_pid) if server_pid else 0.0
    async with aiohttp.ClientSession(connector=connector) as http:
        started = time.perf_counter()
        await asyncio.gather(*(one_session(http, url, messages, think, figures) for _ in range(sessions)))
        elapsed = time.perf_counter() - started
        client_cpu = cpu_seconds() - client_cpu
        server_cpu = cpu_seconds(server_pid) - server_cpu if server_pid else 0.0
        lost = await count_lost(http, url, figures)
    total = len(figures.latencies_ms)
    p50 = statistics.median(figures.latencies_ms)
    p99 = percentile(figures.latencies_ms, 99)
    server = f", server {100 * server_cpu / elapsed:.0f} %" if server_pid else ""
    print(
        f"{label:>10}: {sessions} sessions x {messages} messages (think ~{think:.2f} s): "
        f"{total / elapsed:7.1f} msg/s, p50 {p50:6.1f} ms, p99 {p99:6.1f} ms, "
        f"failed {figures.failed}{figures.failure_reasons()}, lost {lost}; "
        f"load average {os.getloadavg()[0]:.1f}, "
        f"CPU of a core: load generator {100 * client_cpu / elapsed:.0f} %{server}"
    )
    return p99 <= P99_TARGET_MS and lost == 0 and figures.failed == 0


async def main(
    sessions: int,
    messages: int,
    think: float,
    database_url: str | None = None,
    runs: tuple[str, ...] = ("paced", "saturated"),
) -> None:
    """Start the server, run paced and saturated (or the ``runs`` named), stop the server."""
    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
        port = free_loopback_port()
        server = await start_server(Path(tmp), port, database_url)
        url = f"http://127.0.0.1:{port}"
        paced = None
        try:
            if "paced" in runs:
                paced = await run(url, sessions, messages, think, "paced", server.pid)
            if "saturated" in runs:
                await run(url, sessions, messages, 0.0, "saturated", server.pid)
        finally:
            server.send_signal(signal.SIGTERM)
            code = await server.wait()
        verdict = "not run" if paced is None else "met" if paced else "NOT met"
        print(
            f"target (paced): p99 <= {P99_TARGET_MS:.0f} ms, none lost or failed: {verdict}; "
            f"server exit code {code}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--messages", type=int, default=10)
    parser.add_argument("--think", type=float, default=3.0, help="mean seconds between a session's messages")
    parser.add_argument(
        "--database-url",
        help="the server's database, e.g. postgresql://postgres@127.0.0.1:5432/test?search_path=bench "
        "(an existing schema); default: SQLite in a temp dir",
    )
    parser.add_argument(
        "--runs", default="paced,saturated", help="which runs, comma-separated: paced, saturated"
    )
    args = parser.parse_args()
    runs = tuple(name.strip() for name in args.runs.split(","))
    asyncio.run(main(args.sessions, args.messages, args.think, args.database_url, runs))
