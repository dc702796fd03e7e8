"""Held-out evaluation of an engine on a split of our data: per-intent precision, recall, F1, confusions."""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from nlu.intents import Intent
from nlu.training_data import TrainingData


@dataclass(frozen=True)
class IntentScores:
    """Precision, recall and F1 of one intent, with how many test messages it had."""

    intent: Intent
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Evaluation:
    """The result of one evaluation run."""

    accuracy: float
    macro_f1: float
    per_intent: tuple[IntentScores, ...]
    confusions: tuple[tuple[Intent, Intent, int], ...]
    test_size: int


def split(
    data: TrainingData, *, test_share: float = 0.2, seed: int = 7
) -> tuple[list[tuple[str, Intent]], list[tuple[str, Intent]]]:
    """A stratified split: ``test_share`` of every intent's examples held out, reproducibly."""
    rng = random.Random(seed)
    train: list[tuple[str, Intent]] = []
    test: list[tuple[str, Intent]] = []
    for intent, texts in sorted(data.by_intent().items(), key=lambda kv: kv[0].value):
        shuffled = list(dict.fromkeys(texts))
        rng.shuffle(shuffled)
        cut = max(1, round(len(shuffled) * test_share)) if len(shuffled) > 2 else 0
        test.extend((t, intent) for t in shuffled[:cut])
        train.extend((t, intent) for t in shuffled[cut:])
    return train, test


def read_test_file(path: Path) -> list[tuple[str, Intent]]:
    """Labelled messages from JSON Lines ``{"text": ..., "intent": ...}``; ValueError names a bad line."""
    pairs = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            pairs.append((str(item["text"]), Intent(item["intent"])))
        except (json.JSONDecodeError, KeyError, ValueError, TypeError) as exc:
            raise ValueError(f"{path}:{number}: {exc}") from exc
    return pairs


def score(pairs: Sequence[tuple[Intent, Intent]]) -> Evaluation:
    """Scores from (expected, predicted) pairs."""
    intents = sorted({e for e, _ in pairs} | {p for _, p in pairs}, key=lambda i: i.value)
    tp: Counter[Intent] = Counter()
    fp: Counter[Intent] = Counter()
    fn: Counter[Intent] = Counter()
    confusions: Counter[tuple[Intent, Intent]] = Counter()
    for expected, predicted in pairs:
        if expected is predicted:
            tp[expected] += 1
        else:
            fp[predicted] += 1
            fn[expected] += 1
            confusions[(expected, predicted)] += 1
    per_intent = []
    for intent in intents:
        p = tp[intent] / (tp[intent] + fp[intent]) if tp[intent] + fp[intent] else 0.0
        r = tp[intent] / (tp[intent] + fn[intent]) if tp[intent] + fn[intent] else 0.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        per_intent.append(IntentScores(intent, p, r, f1, tp[intent] + fn[intent]))
    supported = [s for s in per_intent if s.support]
    return Evaluation(
        accuracy=sum(tp.values()) / len(pairs) if pairs else 0.0,
        macro_f1=sum(s.f1 for s in supported) / len(supported) if supported else 0.0,
        per_intent=tuple(per_intent),
        confusions=tuple((e, p, n) for (e, p), n in confusions.most_common()),
        test_size=len(pairs),
    )


async def evaluate(
    test: Sequence[tuple[str, Intent]], parse: Callable[[str], Awaitable[Intent]]
) -> Evaluation:
    """Classify every held-out message with ``parse`` and score the result."""
    return score([(expected, await parse(text)) for text, expected in test])


def format_report(result: Evaluation, *, engine: str) -> str:
    """A plain-text table of the evaluation."""
    lines = [
        f"engine: {engine}   held-out messages: {result.test_size}",
        f"accuracy: {result.accuracy:.3f}   macro-F1: {result.macro_f1:.3f}",
        "",
        f"{'intent':32} {'precision':>9} {'recall':>7} {'f1':>6} {'n':>4}",
    ]
    for s in result.per_intent:
        lines.append(f"{s.intent.value:32} {s.precision:9.3f} {s.recall:7.3f} {s.f1:6.3f} {s.support:4d}")
    if result.confusions:
        lines += ["", "confusions (expected -> predicted: count):"]
        lines += [f"  {e.value} -> {p.value}: {n}" for e, p, n in result.confusions[:25]]
    return "\n".join(lines)
