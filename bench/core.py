"""Core figures: embedded training time, in-process parse+answer latency, `privacybot ask` cold start
and peak memory. Prints figures against the targets; asserts nothing."""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bot.app import build_core
from bot.conversation.memory import MemoryTurnStore
from bot.domain.channels import ChannelName
from bot.messages import InboundMessage
from bot.settings import PROJECT_ROOT, Settings
from nlu.engines.embedded import train
from nlu.training_data import load_training_data

QUESTIONS = [
    "how long do you keep payment records?",
    "How long is my IP address kept?",
    "do you sell my data to advertisers",
    "who is your privacy officer and how do I reach them?",
    "pls delete my account",
    "I want a copy of all the data you hold about me",
    "hi",
    "what's the weather tomorrow?",
    "is my data transferred outside the country?",
    "someone logged into my account from another country!",
]


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def bench_training() -> float:
    """Seconds to train the embedded model on all the data."""
    data = load_training_data()
    started = time.perf_counter()
    train(data)
    return time.perf_counter() - started


async def bench_latency(rounds: int) -> tuple[list[float], list[float]]:
    """Per-message latencies (ms): parse+answer alone, and a whole conversation turn."""
    core = build_core(Settings(testing=True))
    store = MemoryTurnStore()
    conversation = core.conversation(store)
    engine, answerer = core.embedded, core.answerer
    parse_answer: list[float] = []
    turns: list[float] = []
    for _ in range(rounds):
        for q in QUESTIONS:
            started = time.perf_counter()
            parsed = engine.parse_sync(q)
            topic = parsed.intent.intent.value if parsed.intent.intent.is_policy_question else None
            answerer.answer(q, topic=topic)
            parse_answer.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            await conversation.handle(InboundMessage(ChannelName.CLI, uuid.uuid4().hex, q))
            turns.append((time.perf_counter() - started) * 1000)
    return parse_answer, turns


_PEAK_OF_CHILD = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, capture_output=True); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def peak_memory_mb(*command: str) -> float:
    """Peak resident memory (MB) of ``command``, measured in a wrapper so no other child counts."""
    out = subprocess.run(
        [sys.executable, "-c", _PEAK_OF_CHILD, *command],
        check=True,
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
    )
    return int(out.stdout.strip()) / 1024


def bench_cold_start(runs: int) -> tuple[list[float], float, float]:
    """Wall seconds of `privacybot ask` in a fresh process (model cached); peak RSS (MB) of `ask` and
    of a training run."""
    exe = str(Path(sys.executable).with_name("privacybot"))
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            [exe, "ask", "how long do you keep payment records?"],
            check=True,
            capture_output=True,
            cwd=PROJECT_ROOT,
        )
        times.append(time.perf_counter() - started)
    return times, peak_memory_mb(exe, "ask", "hello"), peak_memory_mb(exe, "nlu", "train")


def main() -> None:
    """Run every measurement and print the figures."""
    subprocess.run(
        [str(Path(sys.executable).with_name("privacybot")), "ask", "warm the model cache"],
        check=True,
        capture_output=True,
        cwd=PROJECT_ROOT,
    )
    training = [bench_training() for _ in range(3)]
    parse_answer, turns = asyncio.run(bench_latency(200))
    cold, peak_mb, train_mb = bench_cold_start(7)
    print("core benchmark (embedded engine)")
    print(f"  training time           median {statistics.median(training):.2f} s   (target <= 5 s)")
    print(
        f"  parse+answer            p50 {percentile(parse_answer, 50):.3f} ms   p99 "
        f"{percentile(parse_answer, 99):.3f} ms   (target p50 <= 1 ms)   n={len(parse_answer)}"
    )
    print(
        f"  whole turn (in memory)  p50 {percentile(turns, 50):.3f} ms   p99 {percentile(turns, 99):.3f} ms"
    )
    print(
        f"  `privacybot ask` cold   median {statistics.median(cold):.2f} s   min {min(cold):.2f} s   "
        "(target <= 1.5 s)"
    )
    print(f"  peak memory (ask)       {peak_mb:.0f} MB   (target <= 200 MB)")
    print(f"  peak memory (training)  {train_mb:.0f} MB")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory():
        main()
