"""Start-up time of `privacybot run` with only the web channel (no Telegram token, no mailbox): seconds from
launching the process until ``/healthz`` answers, over several runs (a fresh SQLite in a temp dir each time,
the trained model from the shared cache, so the runs are "warm"). Prints each run, the median and the target.

The first run also builds the model cache when it is missing (cold); it is reported apart and left out of the
median. Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import statistics
import tempfile
import time
from pathlib import Path

from bench.web_chat import start_server
from nlu.engines.rasa_server import free_loopback_port

TARGET_SECONDS = 3.0


async def one_start(data_dir: Path) -> float:
    """Seconds until a new `privacybot run` answers /healthz; the server is stopped afterwards."""
    started = time.perf_counter()
    server = await start_server(data_dir, free_loopback_port())
    ready = time.perf_counter() - started
    server.send_signal(signal.SIGTERM)
    await server.wait()
    return ready


async def main(runs: int) -> None:
    """Start the server ``runs`` + 1 times and print the figures."""
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        first = await one_start(Path(tmp) / "first")
        print(f"first start (builds the model cache if missing): {first:.2f} s")
        figures = []
        for number in range(runs):
            seconds = await one_start(Path(tmp) / f"run{number}")
            figures.append(seconds)
            print(f"warm start {number + 1}: {seconds:.2f} s")
    median = statistics.median(figures)
    verdict = "met" if median <= TARGET_SECONDS else "NOT met"
    print(
        f"warm start median {median:.2f} s, worst {max(figures):.2f} s; "
        f"target <= {TARGET_SECONDS:.0f} s: {verdict}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    asyncio.run(main(parser.parse_args().runs))
