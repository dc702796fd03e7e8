"""The two NLU engines side by side on the same held-out data (tests/nlu/challenge.jsonl, never trained on):
accuracy, macro-F1, parse latency, cold start, memory and training time, with the Rasa/embedded ratios.

Needs the Rasa env (`make rasa`). Training Rasa from scratch takes minutes; `--cached-rasa` reuses the cached
model and reports its training time as not measured."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import psutil

from bench.core import peak_memory_mb, percentile
from bot.settings import PROJECT_ROOT
from nlu.engines.embedded import EmbeddedEngine, train
from nlu.engines.rasa_env import require_rasa_env
from nlu.engines.rasa_http import RasaHttpEngine
from nlu.engines.rasa_server import RasaServer
from nlu.engines.rasa_train import TrainingProgress, train_nlu
from nlu.evaluate import Evaluation, evaluate, read_test_file
from nlu.intents import Intent
from nlu.result import ParseResult
from nlu.training_data import load_training_data

HELD_OUT = PROJECT_ROOT / "tests" / "nlu" / "challenge.jsonl"


@dataclass(frozen=True)
class EngineFigures:
    """Everything measured for one engine."""

    name: str
    evaluation: Evaluation
    p50_ms: float
    p99_ms: float
    cold_start_s: float
    memory_mb: float
    training_s: float | None


async def _latencies(parse: Callable[[str], Awaitable[ParseResult]], texts: list[str]) -> list[float]:
    times = []
    for text in texts:
        started = time.perf_counter()
        await parse(text)
        times.append((time.perf_counter() - started) * 1000)
    return times


async def _score(
    parse: Callable[[str], Awaitable[ParseResult]], test: list[tuple[str, Intent]]
) -> Evaluation:
    async def classify(text: str) -> Intent:
        return (await parse(text)).intent.intent

    return await evaluate(test, classify)


def _embedded_cold_start() -> float:
    """Seconds for a fresh process to load the cached model and answer one parse."""
    code = (
        "import asyncio; from bot.app import build_core; from bot.settings import Settings; "
        "c = build_core(Settings()); c.embedded.parse_sync('hello')"
    )
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, cwd=PROJECT_ROOT, capture_output=True)
    return time.perf_counter() - started


async def bench_embedded(test: list[tuple[str, Intent]]) -> EngineFigures:
    """Train, score and time the embedded engine."""
    data = load_training_data()
    started = time.perf_counter()
    model = train(data)
    training = time.perf_counter() - started
    engine = EmbeddedEngine(model)
    texts = [t for t, _ in test] * 5
    latencies = await _latencies(engine.parse, texts)
    exe = str(Path(sys.executable).with_name("privacybot"))
    return EngineFigures(
        "embedded",
        await _score(engine.parse, test),
        percentile(latencies, 50),
        percentile(latencies, 99),
        statistics.median(_embedded_cold_start() for _ in range(3)),
        peak_memory_mb(exe, "ask", "hello"),
        training,
    )


async def bench_rasa(test: list[tuple[str, Intent]], *, retrain: bool) -> EngineFigures:
    """Train (or reuse), start, score and time a real Rasa server."""
    env = require_rasa_env()
    training: float | None = None

    def quiet(_: TrainingProgress) -> None:
        return None

    if retrain:
        with tempfile.TemporaryDirectory() as models:
            started = time.perf_counter()
            train_nlu(env, models_dir=Path(models), progress=quiet)
            training = time.perf_counter() - started
    model = await asyncio.to_thread(train_nlu, env, progress=quiet)
    server = RasaServer(env=env, model=model)
    started = time.perf_counter()
    await server.start()
    cold = time.perf_counter() - started
    try:
        pid = server.pid
        assert pid is not None
        process = psutil.Process(pid)
        async with RasaHttpEngine(server.url) as engine:
            await engine.parse("warm up")
            latencies = await _latencies(engine.parse, [t for t, _ in test] * 2)
            evaluation = await _score(engine.parse, test)
        memory = sum(p.memory_info().rss for p in [process, *process.children(recursive=True)]) / 2**20
    finally:
        await server.stop()
    return EngineFigures(
        "rasa", evaluation, percentile(latencies, 50), percentile(latencies, 99), cold, memory, training
    )


def _ratio(a: float | None, b: float | None) -> str:
    if a is None or not b:
        return "n/a"
    return f"{a / b:.2f}x" if a / b < 10 else f"{a / b:.0f}x"


def print_table(emb: EngineFigures, rasa: EngineFigures, test_size: int) -> None:
    """Both engines and the Rasa/embedded ratio, as a Markdown table."""

    def fmt(v: float | None, unit: str, digits: int = 2) -> str:
        return f"{v:.{digits}f} {unit}".strip() if v is not None else "not measured"

    rows = [
        (
            "accuracy",
            fmt(emb.evaluation.accuracy, "", 3),
            fmt(rasa.evaluation.accuracy, "", 3),
            _ratio(rasa.evaluation.accuracy, emb.evaluation.accuracy),
        ),
        (
            "macro-F1",
            fmt(emb.evaluation.macro_f1, "", 3),
            fmt(rasa.evaluation.macro_f1, "", 3),
            _ratio(rasa.evaluation.macro_f1, emb.evaluation.macro_f1),
        ),
        ("parse p50", fmt(emb.p50_ms, "ms", 3), fmt(rasa.p50_ms, "ms"), _ratio(rasa.p50_ms, emb.p50_ms)),
        ("parse p99", fmt(emb.p99_ms, "ms", 3), fmt(rasa.p99_ms, "ms"), _ratio(rasa.p99_ms, emb.p99_ms)),
        (
            "cold start",
            fmt(emb.cold_start_s, "s"),
            fmt(rasa.cold_start_s, "s"),
            _ratio(rasa.cold_start_s, emb.cold_start_s),
        ),
        (
            "memory",
            fmt(emb.memory_mb, "MB", 0),
            fmt(rasa.memory_mb, "MB", 0),
            _ratio(rasa.memory_mb, emb.memory_mb),
        ),
        (
            "training",
            fmt(emb.training_s, "s"),
            fmt(rasa.training_s, "s"),
            _ratio(rasa.training_s, emb.training_s),
        ),
    ]
    print(f"NLU engines on the same held-out data ({test_size} messages, {HELD_OUT.name})")
    print()
    print("| | embedded | rasa | rasa / embedded |")
    print("|---|---|---|---|")
    for name, e, r, ratio in rows:
        print(f"| {name} | {e} | {r} | {ratio} |")


async def main(retrain: bool) -> None:
    """Measure both engines and print the table."""
    test = read_test_file(HELD_OUT)
    emb = await bench_embedded(test)
    rasa = await bench_rasa(test, retrain=retrain)
    print_table(emb, rasa, len(test))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cached-rasa", action="store_true", help="reuse the cached Rasa model")
    args = parser.parse_args()
    asyncio.run(main(retrain=not args.cached_rasa))
