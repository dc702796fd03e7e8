"""Parsing policy text into sections and passages."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import DEFAULT_POLICY
from policy.document import PassageKind, PolicyFormatError, load_policy, parse_policy


def test_seed_policy_sections_and_passage_kinds() -> None:
    """The ZynorLink seed parses into its headings, with bullets, table rows and contact fields."""
    doc = load_policy(DEFAULT_POLICY)
    assert doc.title == "Privacy Policy"
    assert "Retention Periods" in doc.sections
    assert "Contact Us About Privacy" in doc.sections
    payment = next(p for p in doc.passages if p.text.startswith("Payment records"))
    assert payment.kind is PassageKind.BULLET
    assert payment.section == "Retention Periods"
    assert payment.parent_section == "Data Retention and Deletion"
    ip_row = next(p for p in doc.passages if p.kind is PassageKind.TABLE_ROW and "IP Address" in p.text)
    assert "Retention Period: 12 months" in ip_row.text
    assert ip_row.section == "Automatically Collected Information"


def test_obfuscated_email_line_is_dropped() -> None:
    """The web-page artefact `[email protected]` never becomes a passage."""
    doc = load_policy(DEFAULT_POLICY)
    assert not any("email protected" in p.text.lower() for p in doc.passages)
    assert any(p.text.startswith("Phone:") for p in doc.passages)


def test_markdown_policy() -> None:
    """Markdown headings give sections and parents; wrapped paragraphs join; tables and lists parse."""
    doc = parse_policy(
        "# Policy\n\n## Keeping data\nWe keep data\nfor a while.\n\n### Periods\n"
        "- **Invoices**: 10 years\n\n| Data | Retention |\n|---|---|\n| Logs | 3 days |\n"
    )
    assert doc.title == "Policy"
    para = next(p for p in doc.passages if p.kind is PassageKind.PARAGRAPH)
    assert para.text == "We keep data for a while."
    bullet = next(p for p in doc.passages if p.kind is PassageKind.BULLET)
    assert bullet.text == "Invoices: 10 years"
    assert bullet.section_path == "Keeping data › Periods"
    row = next(p for p in doc.passages if p.kind is PassageKind.TABLE_ROW)
    assert row.text == "Logs — Retention: 3 days"


@pytest.mark.parametrize("content", [b"", b"   \n\n", b"\xff\xfe\x00binary"])
def test_unusable_file_is_a_clear_error(tmp_path: Path, content: bytes) -> None:
    """An empty or non-text policy file raises PolicyFormatError, not a crash deep inside."""
    path = tmp_path / "policy.txt"
    path.write_bytes(content)
    with pytest.raises(PolicyFormatError):
        load_policy(path)
