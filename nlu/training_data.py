"""Read Rasa-format NLU training data (YAML, ``version: "3.1"``) as Rasa itself reads it.

Examples in Azerbaijani and Russian sit in their own blocks, one per intent and language, marked the way
Rasa 3 carries metadata on an intent::

    - intent: request_erasure
      metadata:
        lang: az
      examples: |
        - hesabımı silmək istəyirəm

A block without ``metadata.lang`` is English.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from nlu.intents import EntityName, Intent
from nlu.language import DEFAULT_LANGUAGE, Language

DATA_DIR = Path(__file__).resolve().parent / "data"
CONFIG_FILE = Path(__file__).resolve().parent.parent / "config.yml"

# Rasa's inline entity annotation: [value](entity) or [value]{"entity": "..."}.
_ANNOTATION = re.compile(r"\[(?P<value>[^\]]+)\]\((?P<entity>[^)]+)\)|\[(?P<value2>[^\]]+)\]\{[^}]*\}")


class TrainingDataError(ValueError):
    """The training data does not read as Rasa NLU data."""


@dataclass(frozen=True)
class Example:
    """One training message, annotations removed, with the language it is written in."""

    text: str
    intent: Intent
    lang: Language = DEFAULT_LANGUAGE


@dataclass(frozen=True)
class TrainingData:
    """All examples and entity regexes from the data directory."""

    examples: tuple[Example, ...]
    regexes: dict[EntityName, str]
    fingerprint: str

    def languages(self) -> dict[str, Language]:
        """The language of each example text."""
        return {ex.text: ex.lang for ex in self.examples}

    def by_intent(self) -> dict[Intent, list[str]]:
        """Example texts grouped by intent."""
        grouped: dict[Intent, list[str]] = {}
        for ex in self.examples:
            grouped.setdefault(ex.intent, []).append(ex.text)
        return grouped


def strip_annotations(text: str) -> str:
    """``send it to [a@b.com](email)`` → ``send it to a@b.com``."""
    return _ANNOTATION.sub(lambda m: m.group("value") or m.group("value2"), text)


def data_files(directory: Path = DATA_DIR) -> list[Path]:
    """The YAML files of the training data, in a stable order."""
    return sorted(p for p in directory.rglob("*") if p.suffix in (".yml", ".yaml"))


def fingerprint(paths: list[Path]) -> str:
    """A hash of the data's content, keying the cached model."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _block_language(path: Path, item: dict[str, object]) -> Language:
    """The language of one intent block: its ``metadata.lang``, English when it has none."""
    metadata = item.get("metadata")
    lang = metadata.get("lang") if isinstance(metadata, dict) else None
    if lang is None:
        return DEFAULT_LANGUAGE
    try:
        return Language(lang)
    except ValueError as exc:
        raise TrainingDataError(f"{path}: unknown language {lang!r}") from exc


def load_training_data(directory: Path = DATA_DIR) -> TrainingData:
    """Read every intent example and entity regex under ``directory``."""
    paths = data_files(directory)
    if not paths:
        raise TrainingDataError(f"no training data under {directory}")
    examples: list[Example] = []
    regexes: dict[EntityName, str] = {}
    for path in paths:
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise TrainingDataError(f"{path}: {exc}") from exc
        for item in document.get("nlu") or []:
            block = item.get("examples") or ""
            lines = [ln.strip()[2:].strip() for ln in block.splitlines() if ln.strip().startswith("- ")]
            if "intent" in item:
                try:
                    intent = Intent(item["intent"])
                except ValueError as exc:
                    raise TrainingDataError(f"{path}: unknown intent {item['intent']!r}") from exc
                lang = _block_language(path, item)
                examples.extend(Example(strip_annotations(line), intent, lang) for line in lines if line)
            elif "regex" in item and lines:
                try:
                    regexes[EntityName(item["regex"])] = lines[0]
                except ValueError:
                    continue
    if not examples:
        raise TrainingDataError(f"no intent examples under {directory}")
    return TrainingData(tuple(examples), regexes, fingerprint(paths))
