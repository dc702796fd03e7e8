"""One-time code values: generation, hashing, comparison and the resend limit arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.identity.codes import (
    CodePolicy,
    InvalidAddress,
    code_matches,
    generate_code,
    hash_code,
    normalise_address,
    resend_wait_seconds,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_codes_are_six_digits() -> None:
    """Codes are always six digits, leading zeros included, and vary."""
    codes = {generate_code() for _ in range(300)}
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    assert len(codes) > 250


def test_hash_is_salted_and_hides_the_code() -> None:
    """The same code hashes differently each time, and the stored values do not contain it."""
    first, second = hash_code("012345"), hash_code("012345")
    assert first.salt != second.salt and first.digest != second.digest
    assert "012345" not in first.digest + first.salt


def test_code_matches_only_the_right_code() -> None:
    """The right code (spaces or dashes allowed) matches; anything else does not."""
    stored = hash_code("482913")
    assert code_matches("482913", stored)
    assert code_matches("482 913", stored)
    assert code_matches("482-913", stored)
    assert not code_matches("482914", stored)
    assert not code_matches("", stored)
    assert not code_matches("٤٨٢٩١٣", stored)  # Arabic-Indic digits are not our digits


def test_resend_wait() -> None:
    """60 s between sends; at most 5 sends per hour, the sixth waits until the oldest is an hour old."""
    policy = CodePolicy()
    assert resend_wait_seconds([], NOW, policy) == 0
    assert resend_wait_seconds([NOW - timedelta(seconds=20)], NOW, policy) == 40
    assert resend_wait_seconds([NOW - timedelta(seconds=60)], NOW, policy) == 0
    five = [NOW - timedelta(minutes=m) for m in (50, 40, 30, 20, 10)]
    assert resend_wait_seconds(five, NOW, policy) == 10 * 60


def test_addresses_are_normalised_and_checked() -> None:
    """Addresses are trimmed and lower-cased; non-addresses are refused."""
    assert normalise_address("  <Anna.K@Example.COM> ") == "anna.k@example.com"
    for bad in ("", "anna", "anna@", "a b@example.com", "anna@example"):
        with pytest.raises(InvalidAddress):
            normalise_address(bad)
