"""What may be stored and which addresses may be used (bot/domain/text.py)."""

from __future__ import annotations

import pytest

from bot.domain.text import clean_addresses, formula_prefixed, storable


def test_storable_drops_nul_and_replaces_only_lone_surrogates() -> None:
    """NUL goes, a lone surrogate becomes U+FFFD, and a pair split into two code points is joined back into
    its character (an emoji survives); the result encodes as UTF-8."""
    text = storable("a\x00b \ud800 \ud83d\ude00 \udfff")
    assert text == "ab \ufffd \U0001f600 \ufffd"
    text.encode("utf-8")


def test_zero_width_characters_leave_addresses_only() -> None:
    """Zero-width characters leave a word holding an ``@``; elsewhere (an emoji joiner) they stay."""
    family = "\U0001f468\u200d\U0001f469"
    assert clean_addresses(f"mail jo\u200bhn@example.test {family}") == f"mail john@example.test {family}"


@pytest.mark.parametrize(
    "typed",
    [
        "=a@example.test",
        "+a@example.test",
        "-a@example.test",
        "@a@example.test",
        "<=a@example.test>",
        "\u200b=a@example.test",
    ],
)
def test_formula_prefixes_are_found(typed: str) -> None:
    """Each spreadsheet formula prefix is found, behind a bracket or a zero-width character too."""
    assert formula_prefixed(typed)


def test_a_plain_address_is_no_formula() -> None:
    """An ordinary address, with a plus or a dash inside, is not formula-prefixed."""
    assert not formula_prefixed("<anna+news@ex-ample.test>")
