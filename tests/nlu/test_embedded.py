"""The embedded engine: accuracy on unseen messages, entities, the model cache."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from bot.app import Core
from nlu.engines.embedded import load_or_train, model_path
from nlu.evaluate import evaluate, read_labelled_file, read_test_file, split
from nlu.intents import EntityName, Intent
from nlu.language import Language
from nlu.training_data import DATA_DIR, load_training_data

CHALLENGE = Path(__file__).with_name("challenge.jsonl")


def test_generalises_to_messages_written_apart_from_the_training_data(core: Core) -> None:
    """On an independent set of user messages (never used for training) accuracy stays at or above 85%."""
    test_set = read_test_file(CHALLENGE)

    async def classify(text: str) -> Intent:
        return (await core.embedded.parse(text)).intent.intent

    result = asyncio.run(evaluate(test_set, classify))
    assert len(test_set) >= 250
    assert result.accuracy >= 0.85, result.confusions[:10]
    assert result.macro_f1 >= 0.85


def test_understands_azerbaijani_and_russian_written_apart_from_the_training_data(core: Core) -> None:
    """On the challenge set's Azerbaijani and Russian messages, each language scores at least 85% too."""
    labelled = read_labelled_file(CHALLENGE)

    async def classify(text: str) -> Intent:
        return (await core.embedded.parse(text)).intent.intent

    test_set = [(text, intent) for text, intent, _ in labelled]
    languages = [lang for _, _, lang in labelled]
    result = asyncio.run(evaluate(test_set, classify, languages=languages))
    scores = {s.lang: s for s in result.per_language}
    assert set(scores) == set(Language)
    for lang in (Language.AZ, Language.RU):
        assert scores[lang].support >= 60
        assert scores[lang].accuracy >= 0.85, (lang, result.confusions[:10])


def test_held_out_split_is_stratified_and_disjoint() -> None:
    """Every intent is represented in the held-out part and no message is in both parts."""
    data = load_training_data()
    train, test = split(data, test_share=0.2, seed=3)
    assert {i for _, i in test} == {i for _, i in train} == set(data.by_intent())
    assert not {t for t, _ in train} & {t for t, _ in test}


def test_entities(core: Core) -> None:
    """Email, one-time code and ticket reference are extracted with their spans; references upper-cased."""
    text = "I'm anna.k@example.org, code 482913, ticket prv-7k3q-9m2d."
    parsed = core.embedded.parse_sync(text)
    assert parsed.entity(EntityName.EMAIL) == "anna.k@example.org"
    assert parsed.entity(EntityName.OTP_CODE) == "482913"
    assert parsed.entity(EntityName.TICKET_REF) == "PRV-7K3Q-9M2D"
    email = next(e for e in parsed.entities if e.name is EntityName.EMAIL)
    assert text[email.start : email.end] == "anna.k@example.org"
    assert core.embedded.parse_sync("call +994 50 461 45 64").entity(EntityName.OTP_CODE) is None


def test_ranking_is_a_probability_distribution(core: Core) -> None:
    """Confidences are ordered and sum to at most 1 (the ranking is the top of a softmax)."""
    parsed = core.embedded.parse_sync("delete everything you have on me")
    confidences = [s.confidence for s in parsed.ranking]
    assert confidences == sorted(confidences, reverse=True)
    assert 0.0 < sum(confidences) <= 1.0 + 1e-6
    assert parsed.intent == parsed.ranking[0]


def test_model_is_cached_and_retrained_when_the_data_changes(tmp_path: Path) -> None:
    """A second load reads the cache; changed data gets a new fingerprint and a new model."""
    data_dir = tmp_path / "data"
    shutil.copytree(DATA_DIR, data_dir)
    models = tmp_path / "models"
    first = load_or_train(models, data_dir=data_dir)
    assert model_path(models, first.fingerprint).exists()
    again = load_or_train(models, data_dir=data_dir)
    assert again.fingerprint == first.fingerprint and again.training_seconds == first.training_seconds
    extra = data_dir / "extra.yml"
    extra.write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - howdy partner\n', encoding="utf-8"
    )
    changed = load_or_train(models, data_dir=data_dir)
    assert changed.fingerprint != first.fingerprint
    assert model_path(models, changed.fingerprint).exists()
