"""The question bank: questions in our own words (English, Azerbaijani, Russian), each with the passages of
the shipped ZynorLink policy that answer it, and whether the policy answers it fully, partly or not at all.

It is the training set of the answer relevance scorer: the scorer learns from features of (question, passage)
pairs, never from passage ids, so what it learns carries over to another policy. Passages are named by an
anchor, a verbatim piece of one line of the policy, or ``list: <section>`` for a whole list or table with its
introduction; an anchor that names no passage, or more than one, is a :class:`BankFormatError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from policy.document import Passage, PassageKind, PolicyDocument

BANK_DIR = Path(__file__).with_name("bank")
# The policy the bank's anchors name (the scorer it trains serves any policy).
BANK_POLICY = Path(__file__).with_name("zynorlink-privacy-policy.txt")
LANGUAGES = ("en", "az", "ru")
_LIST_PREFIX = "list: "
# Kinds that one anchor may name: the lines of the policy, never a list or block built from them.
_LINE_KINDS = frozenset(PassageKind) - {PassageKind.LIST, PassageKind.FIELD_BLOCK}


class Coverage(StrEnum):
    """How much of a question the policy answers (the `coverage` key of `privacybot ask --json`)."""

    FULL = "full"
    PARTIAL = "partial"
    NONE = "none"


class BankFormatError(ValueError):
    """A bank file that does not follow the format, or names passages the policy does not have."""


@dataclass(frozen=True)
class BankQuestion:
    """One question of the bank: its text and language, the policy's coverage of it, the passages that
    answer it (or, for partial coverage, say what the policy does say) and the passages that would still
    help beside an honest "not exactly" (``related``), as indexes into the document's passages."""

    text: str
    lang: str
    coverage: Coverage
    answers: frozenset[int]
    related: frozenset[int]
    source: str


def resolve_anchor(document: PolicyDocument, anchor: str) -> tuple[Passage, ...]:
    """The passages ``anchor`` names: one line containing it verbatim, or for ``list: <section>`` that
    section's list (a table has none: its introduction and rows)."""
    if anchor.startswith(_LIST_PREFIX):
        section = anchor.removeprefix(_LIST_PREFIX)
        lists = [p for p in document.passages if p.kind is PassageKind.LIST and p.section == section]
        if lists:
            return (lists[0],)
        rows = [p for p in document.passages if p.kind is PassageKind.TABLE_ROW and p.section == section]
        if not rows:
            raise BankFormatError(f"no list or table in section {section!r}")
        intro = [p for p in document.passages if p.kind is PassageKind.PARAGRAPH and p.section == section]
        return tuple(intro[:1] + rows)
    hits = [p for p in document.passages if p.kind in _LINE_KINDS and anchor in p.text]
    if len(hits) != 1:
        raise BankFormatError(f"anchor {anchor!r} names {len(hits)} passages, not one")
    return (hits[0],)


def _indexes(document: PolicyDocument, anchors: Any, where: str) -> frozenset[int]:
    if anchors is None:
        return frozenset()
    if not isinstance(anchors, list) or not all(isinstance(a, str) for a in anchors):
        raise BankFormatError(f"{where}: passages must be a list of anchors")
    return frozenset(p.index for a in anchors for p in resolve_anchor(document, a))


def _entry_questions(document: PolicyDocument, entry: Any, where: str) -> list[BankQuestion]:
    if not isinstance(entry, dict):
        raise BankFormatError(f"{where}: an entry is a mapping")
    try:
        coverage = Coverage(str(entry.get("coverage")))
    except ValueError as exc:
        raise BankFormatError(f"{where}: coverage must be full, partial or none") from exc
    answers = _indexes(document, entry.get("answers"), where)
    related = _indexes(document, entry.get("related"), where)
    if (coverage is Coverage.NONE) == bool(answers):
        raise BankFormatError(f"{where}: {coverage} coverage {'takes no' if answers else 'needs'} answers")
    questions = []
    for lang in LANGUAGES:
        texts = entry.get(lang) or []
        if not isinstance(texts, list) or not all(isinstance(t, str) and t.strip() for t in texts):
            raise BankFormatError(f"{where}: {lang} must be a list of questions")
        questions += [BankQuestion(t.strip(), lang, coverage, answers, related, where) for t in texts]
    if not questions:
        raise BankFormatError(f"{where}: no questions")
    return questions


def load_bank(document: PolicyDocument, directory: Path = BANK_DIR) -> tuple[BankQuestion, ...]:
    """Every question of the bank files in ``directory``, their anchors resolved against ``document``."""
    questions: list[BankQuestion] = []
    for path in sorted(directory.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        entries = data.get("entries") if isinstance(data, dict) else None
        if not isinstance(data, dict) or data.get("version") != 1 or not isinstance(entries, list):
            raise BankFormatError(f"{path.name}: expected version: 1 and a list of entries")
        for number, entry in enumerate(entries):
            questions += _entry_questions(document, entry, f"{path.name} entry {number}")
    return tuple(questions)
