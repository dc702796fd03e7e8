"""`privacybot chat` output: lines break between words at the terminal's width, never inside one."""

from __future__ import annotations

from bot.cli.terminal import wrap_text

REPLY = (
    "First I need to make sure it's really you. What is the email address of your ZynorLink account?\n"
    "\n"
    "Or write to the privacy officer by email, if you prefer."
)


def test_lines_break_at_word_boundaries_within_the_width() -> None:
    """Every line fits 40 columns, the words come out whole and in order, blank lines stay."""
    lines = wrap_text(REPLY, 40, indent="     ")
    assert all(len(line) <= 40 for line in lines)
    assert " ".join(" ".join(lines).split()) == " ".join(REPLY.split())
    assert "" in lines
    assert all(line.startswith("     ") for line in lines if line)


def test_a_word_longer_than_the_line_is_kept_whole() -> None:
    """An address wider than the terminal sits on its own line rather than being cut."""
    lines = wrap_text("Mail privacy-officer-team@zynorlink.example today", 30)
    assert "privacy-officer-team@zynorlink.example" in lines


def test_continuation_lines_hang_under_a_numbered_choice() -> None:
    """A long quick-reply choice continues under its text, not under its number."""
    choice = "[1] Get a copy of all the personal data you hold about me"
    lines = wrap_text(choice, 36, indent="  ", hanging="    ")
    assert lines[0].startswith("  [1] ") and all(line.startswith("      ") for line in lines[1:])
    assert len(lines) > 1
