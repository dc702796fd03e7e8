"""The question bank: its anchors name passages of the shipped policy, in three languages and coverages."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from policy.bank import BANK_POLICY, BankFormatError, Coverage, load_bank, resolve_anchor
from policy.document import PassageKind, load_policy, parse_policy


def test_every_bank_file_resolves_against_the_shipped_policy() -> None:
    """Each anchor of every bank file names passages of the policy it was written for."""
    document = load_policy(BANK_POLICY)
    questions = load_bank(document)
    assert len(questions) > 1500
    indexes = {p.index for p in document.passages}
    for question in questions:
        assert question.answers <= indexes and question.related <= indexes


def test_bank_covers_every_line_of_the_policy_in_three_languages() -> None:
    """Every bullet, table row and body paragraph (not the bare contact fields) is the answer to questions in
    English, Azerbaijani and Russian, and each language has partial and none questions too."""
    document = load_policy(BANK_POLICY)
    questions = load_bank(document)
    answered = {(i, q.lang) for q in questions if q.coverage is Coverage.FULL for i in q.answers}
    lines = [
        p
        for p in document.passages
        if p.kind in (PassageKind.BULLET, PassageKind.TABLE_ROW) or p.kind is PassageKind.LIST
    ]
    for passage in lines:
        for lang in ("en", "az", "ru"):
            assert (passage.index, lang) in answered, (passage.text[:40], lang)
    kinds = Counter((q.coverage, q.lang) for q in questions)
    for coverage in Coverage:
        for lang in ("en", "az", "ru"):
            assert kinds[(coverage, lang)] >= 20, (coverage, lang)


def test_list_anchor_of_a_table_names_its_rows() -> None:
    """``list: <section>`` of a section holding a table names its introduction and every row."""
    text = "Policy\nIntro.\nData\nWe log these.\n| Kind | Kept |\n|---|---|\n| IP | 1 year |\n"
    document = parse_policy(text)
    named = resolve_anchor(document, "list: Data")
    assert [p.kind for p in named] == [PassageKind.PARAGRAPH, PassageKind.TABLE_ROW]


@pytest.mark.parametrize(
    ("anchor", "message"),
    [("never in the text", "names 0 passages"), ("list: No Such Section", "no list or table")],
)
def test_a_wrong_anchor_is_a_format_error(anchor: str, message: str) -> None:
    """An anchor that names no passage is refused with what went wrong."""
    document = load_policy(BANK_POLICY)
    with pytest.raises(BankFormatError, match=message):
        resolve_anchor(document, anchor)


def test_a_none_entry_with_answers_is_refused(tmp_path: Path) -> None:
    """A question the policy does not answer cannot name passages that answer it."""
    (tmp_path / "bad.yml").write_text(
        'version: 1\nentries:\n  - coverage: none\n    answers: ["Payment records"]\n    en: [do you]\n'
    )
    with pytest.raises(BankFormatError, match="takes no answers"):
        load_bank(load_policy(BANK_POLICY), tmp_path)
