"""Held-out evaluation of an engine on a split of our data: per-intent precision, recall, F1, confusions."""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from nlu.intents import Intent
from nlu.language import DEFAULT_LANGUAGE, Language
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
class LanguageScore:
    """Accuracy on the test messages written in one language."""

    lang: Language
    accuracy: float
    support: int


@dataclass(frozen=True)
class Evaluation:
    """The result of one evaluation run."""

    accuracy: float
    macro_f1: float
    per_intent: tuple[IntentScores, ...]
    confusions: tuple[tuple[Intent, Intent, int], ...]
    test_size: int
    per_language: tuple[LanguageScore, ...] = ()


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


def read_labelled_file(path: Path) -> list[tuple[str, Intent, Language]]:
    """Labelled messages from JSON Lines ``{"text": ..., "intent": ..., "lang": ...}`` (``lang`` defaults to
    English); ValueError names a bad line."""
    labelled = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            lang = Language(item.get("lang", DEFAULT_LANGUAGE))
            labelled.append((str(item["text"]), Intent(item["intent"]), lang))
        except (json.JSONDecodeError, KeyError, ValueError, TypeError, AttributeError) as exc:
            raise ValueError(f"{path}:{number}: {exc}") from exc
    return labelled


def read_test_file(path: Path) -> list[tuple[str, Intent]]:
    """Labelled messages from JSON Lines ``{"text": ..., "intent": ...}``; ValueError names a bad line."""
    return [(text, intent) for text, intent, _ in read_labelled_file(path)]


def _per_language(
    pairs: Sequence[tuple[Intent, Intent]], languages: Sequence[Language]
) -> tuple[LanguageScore, ...]:
    scores = []
    for lang in Language:
        results = [e is p for (e, p), lg in zip(pairs, languages, strict=True) if lg is lang]
        if results:
            scores.append(LanguageScore(lang, sum(results) / len(results), len(results)))
    return tuple(scores)


def score(pairs: Sequence[tuple[Intent, Intent]], languages: Sequence[Language] | None = None) -> Evaluation:
    """Scores from (expected, predicted) pairs; per language too when ``languages`` (one per pair) is
    given."""
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
        per_language=_per_language(pairs, languages) if languages is not None else (),
    )


async def evaluate(
    test: Sequence[tuple[str, Intent]],
    parse: Callable[[str], Awaitable[Intent]],
    *,
    languages: Sequence[Language] | None = None,
) -> Evaluation:
    """Classify every held-out message with ``parse`` and score the result (per language too when
    ``languages`` gives each message's)."""
    return score([(expected, await parse(text)) for text, expected in test], languages)


def format_report(result: Evaluation, *, engine: str) -> str:
    """A plain-text table of the evaluation."""
    lines = [
        f"engine: {engine}   held-out messages: {result.test_size}",
        f"accuracy: {result.accuracy:.3f}   macro-F1: {result.macro_f1:.3f}",
        *(f"accuracy ({s.lang.value}): {s.accuracy:.3f}   n: {s.support}" for s in result.per_language),
        "",
        f"{'intent':32} {'precision':>9} {'recall':>7} {'f1':>6} {'n':>4}",
    ]
    for s in result.per_intent:
        lines.append(f"{s.intent.value:32} {s.precision:9.3f} {s.recall:7.3f} {s.f1:6.3f} {s.support:4d}")
    if result.confusions:
        lines += ["", "confusions (expected -> predicted: count):"]
        lines += [f"  {e.value} -> {p.value}: {n}" for e, p, n in result.confusions[:25]]
    return "\n".join(lines)
