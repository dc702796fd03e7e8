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
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bot.app import Core, build_core
from bot.conversation.memory import MemoryTurnStore
from bot.domain.channels import ChannelName
from bot.messages import InboundMessage
from bot.settings import PROJECT_ROOT, Settings
from nlu.engines.embedded import train
from nlu.training_data import load_training_data
from policy.encoder import E5Encoder, SentenceEncoder
from policy.relevance import train_relevance

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
# Questions each asked once (no cached query vector): the semantic path's real cost per new question.
FRESH_QUESTIONS = [
    "does the app listen through my microphone",
    "can strangers look at my learning history",
    "what happens to my certificates if I leave",
    "are my answers in surveys anonymous",
    "will recruiters get my profile",
    "do you keep my card number after I pay",
    "is there a way to stop the newsletters but keep updates",
    "who checks that your servers are secure",
    "can I find out what you know about me",
    "do you move my data to servers in other countries",
    "Как вы защищаете мои данные?",
    "Məlumatlarımı kimlərlə paylaşırsınız?",
    "how soon do you tell me about a new version of the rules",
    "where can I write a letter to you",
    "do you sell lists of users to other firms",
    "is my browsing on your site recorded",
    "what do you do with my work experience",
    "can I fix a wrong birth date in my profile",
    "are backups of my data kept somewhere",
    "do your staff get trained on privacy",
]


class TimedEncoder:
    """Wraps an encoder and records the time of each uncached query."""

    def __init__(self, inner: SentenceEncoder) -> None:
        self.inner = inner
        self.query_ms: list[float] = []

    @property
    def model_id(self) -> str:
        """The wrapped encoder's id."""
        return self.inner.model_id

    def query(self, text: str) -> np.ndarray:
        """The wrapped query, timed."""
        started = time.perf_counter()
        vector = self.inner.query(text)
        self.query_ms.append((time.perf_counter() - started) * 1000)
        return vector

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        """The wrapped passages."""
        return self.inner.passages(texts)


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


def bench_relevance_training() -> float:
    """Seconds to fit the answer relevance and coverage models on the bank (its vectors already cached)."""
    encoder = E5Encoder()
    cache = Settings(testing=True).model_dir
    train_relevance(encoder, cache)
    started = time.perf_counter()
    train_relevance(encoder, cache)
    return time.perf_counter() - started


def _parse_and_answer(core: Core, question: str) -> float:
    """Milliseconds to understand and answer ``question`` in process, as a conversation does."""
    started = time.perf_counter()
    parsed = core.embedded.parse_sync(question)
    topic = parsed.intent.intent.value if parsed.intent.intent.is_policy_question else None
    core.answerer.answer(question, topic=topic)
    return (time.perf_counter() - started) * 1000


def bench_fresh_questions() -> tuple[list[float], int]:
    """Per-question latencies (ms) of questions never asked before, and how many took the fast path."""
    encoder = TimedEncoder(E5Encoder())
    core = build_core(Settings(testing=True), encoder=encoder)
    _parse_and_answer(core, "warm up the encoder")
    times: list[float] = []
    fast = 0
    for question in FRESH_QUESTIONS:
        calls = len(encoder.query_ms)
        times.append(_parse_and_answer(core, question))
        fast += len(encoder.query_ms) == calls
    return times, fast


def bench_embedding_caches() -> tuple[float, float]:
    """Seconds to build the core with an empty model cache (train, embed every passage and training
    question) and again with the caches warm."""
    with tempfile.TemporaryDirectory() as cache:
        settings = Settings(testing=True, model_cache_dir=Path(cache))
        started = time.perf_counter()
        build_core(settings)
        cold = time.perf_counter() - started
        started = time.perf_counter()
        build_core(settings)
        return cold, time.perf_counter() - started


async def bench_latency(rounds: int) -> tuple[list[float], list[float]]:
    """Per-message latencies (ms): parse+answer alone, and a whole conversation turn."""
    core = build_core(Settings(testing=True))
    store = MemoryTurnStore()
    conversation = core.conversation(store)
    parse_answer: list[float] = []
    turns: list[float] = []
    for _ in range(rounds):
        for q in QUESTIONS:
            parse_answer.append(_parse_and_answer(core, q))
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
    semantic_question = "do you access the photos on my phone?"
    return times, peak_memory_mb(exe, "ask", semantic_question), peak_memory_mb(exe, "nlu", "train")


def main() -> None:
    """Run every measurement and print the figures."""
    subprocess.run(
        [str(Path(sys.executable).with_name("privacybot")), "ask", "warm the model cache"],
        check=True,
        capture_output=True,
        cwd=PROJECT_ROOT,
    )
    training = [bench_training() for _ in range(3)]
    relevance = bench_relevance_training()
    parse_answer, turns = asyncio.run(bench_latency(200))
    fresh, fast = bench_fresh_questions()
    caches_cold, caches_warm = bench_embedding_caches()
    cold, peak_mb, train_mb = bench_cold_start(7)
    print("core benchmark (embedded engine)")
    print(f"  training time           median {statistics.median(training):.2f} s   (target <= 10 s)")
    print(f"  relevance model fit     {relevance:.1f} s   (bank vectors cached; target <= 10 s)")
    print(
        f"  core with caches        empty {caches_cold:.1f} s   warm {caches_warm:.2f} s   "
        "(target warm <= 3 s)"
    )
    print(
        f"  parse+answer            p50 {percentile(parse_answer, 50):.3f} ms   p99 "
        f"{percentile(parse_answer, 99):.3f} ms   (target p50 <= 1 ms, p99 <= 40 ms)   n={len(parse_answer)}"
    )
    print(
        f"  parse+answer, new       p50 {percentile(fresh, 50):.1f} ms   "
        f"p99 {percentile(fresh, 99):.1f} ms   {fast}/{len(fresh)} on the fast path (each asked once)"
    )
    print(
        f"  whole turn (in memory)  p50 {percentile(turns, 50):.3f} ms   p99 {percentile(turns, 99):.3f} ms"
    )
    print(
        f"  `privacybot ask` cold   median {statistics.median(cold):.2f} s   min {min(cold):.2f} s   "
        "(target <= 1.5 s)"
    )
    print(f"  peak memory (ask)       {peak_mb:.0f} MB   (semantic question; target <= 250 MB)")
    print(f"  peak memory (training)  {train_mb:.0f} MB")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory():
        main()
