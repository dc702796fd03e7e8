"""The Rasa-format training data: languages marked per block, every intent in every language."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nlu.intents import Intent
from nlu.language import Language
from nlu.training_data import TrainingDataError, load_training_data

CHALLENGE = Path(__file__).with_name("challenge.jsonl")


def test_every_intent_has_examples_in_every_language() -> None:
    """English, Azerbaijani and Russian each have examples for all intents, read from metadata.lang."""
    data = load_training_data()
    for lang in Language:
        intents = {e.intent for e in data.examples if e.lang is lang}
        assert intents == set(Intent), lang


def test_a_block_language_is_read_and_an_unknown_one_refused(tmp_path: Path) -> None:
    """``metadata: {lang: az}`` marks a block Azerbaijani; a block in an unknown language is an error."""
    (tmp_path / "nlu.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hello\n'
        "- intent: greet\n  metadata:\n    lang: az\n  examples: |\n    - salam\n",
        encoding="utf-8",
    )
    data = load_training_data(tmp_path)
    assert [(e.text, e.lang) for e in data.examples] == [("hello", Language.EN), ("salam", Language.AZ)]
    (tmp_path / "nlu.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  metadata:\n    lang: fr\n  examples: |\n    - salut\n',
        encoding="utf-8",
    )
    with pytest.raises(TrainingDataError, match="unknown language 'fr'"):
        load_training_data(tmp_path)


def test_challenge_messages_are_not_training_examples() -> None:
    """The challenge set's Azerbaijani and Russian messages are written apart from the training data: no
    sentence is in both."""
    training = {e.text.casefold() for e in load_training_data().examples}
    lines = [json.loads(line) for line in CHALLENGE.read_text(encoding="utf-8").splitlines() if line]
    foreign = [item["text"] for item in lines if item.get("lang", "en") != "en"]
    assert len(foreign) >= 120
    assert not [text for text in foreign if text.casefold() in training]
