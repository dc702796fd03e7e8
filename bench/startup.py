"""Start-up time of `privacybot run` with only the web channel (no Telegram token, no mailbox): seconds from
launching the process until ``/healthz`` answers. Prints each run, the median and the target; asserts nothing.

The first start creates the SQLite database in a temp dir (and the model cache when it is missing): it is
reported apart. The next starts reuse that data dir, as a restart of an installed assistant does ("warm").
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import tempfile
import time
from pathlib import Path

from bench.web_chat import start_server
from nlu.engines.rasa_server import free_loopback_port

TARGET_SECONDS = 3.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def one_start(data_dir: Path) -> tuple[float, float]:
    """Wall seconds until a new `privacybot run` answers /healthz, and the CPU seconds it used by then (a
    figure a busy machine inflates less); the server is stopped afterwards."""
    started = time.perf_counter()
    server = await start_server(data_dir, free_loopback_port())
    ready = time.perf_counter() - started
    cpu = cpu_seconds(server.pid)
    server.send_signal(signal.SIGTERM)
    await server.wait()
    return ready, cpu


async def main(runs: int) -> None:
    """Start the server ``runs`` + 1 times and print the figures."""
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        first, first_cpu = await one_start(Path(tmp))
        print(
            f"first start (new database; builds the model cache if missing): {first:.2f} s, "
            f"CPU {first_cpu:.2f} s"
        )
        figures, cpus = [], []
        for number in range(runs):
            seconds, cpu = await one_start(Path(tmp))
            figures.append(seconds)
            cpus.append(cpu)
            print(f"warm start {number + 1}: {seconds:.2f} s (CPU {cpu:.2f} s)")
    median = statistics.median(figures)
    verdict = "met" if median <= TARGET_SECONDS else "NOT met"
    print(
        f"warm start median {median:.2f} s, worst {max(figures):.2f} s, "
        f"CPU median {statistics.median(cpus):.2f} s; "
        f"target <= {TARGET_SECONDS:.0f} s: {verdict} (load average {os.getloadavg()[0]:.1f})"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    asyncio.run(main(parser.parse_args().runs))
