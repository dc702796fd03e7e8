"""What understanding reads of a message: the person's words without markup, quotes or signature."""

from __future__ import annotations

import pytest

from nlu.markup import readable_text


@pytest.mark.parametrize(
    ("sent", "read"),
    [
        ("<p>How long do you keep <b>payment records</b>?</p>", "How long do you keep payment records?"),
        (
            "Do you share my data&nbsp;with partners &amp; advertisers?",
            "Do you share my data with partners & advertisers?",
        ),
        (
            "**Who** do you _share_ my data with? [details](https://example.org/x)",
            "Who do you share my data with? details",
        ),
        ("<div>Is my data safe?<br>Thanks</div><script>alert(1)</script>", "Is my data safe?\nThanks"),
        ("Delete my account.\n\n-- \nAnna Aliyeva\nHead of Sales, Example Ltd", "Delete my account."),
        ("Is my data safe?\nSent from my phone", "Is my data safe?"),
        (
            "What rights do I have?\n\nOn Mon, 1 Dec 2026, Assistant <bot@example.org> wrote:\n> Hello",
            "What rights do I have?",
        ),
        ("> an earlier line\nmy own question?", "my own question?"),
        ("is 3 < 5 and 7 > 2 in your policy", "is 3 < 5 and 7 > 2 in your policy"),
    ],
)
def test_markup_quotes_and_signatures_are_dropped(sent: str, read: str) -> None:
    """Tags, entities, Markdown, quoted replies and signatures go; the person's own words stay."""
    assert readable_text(sent) == read


def test_a_message_of_markup_alone_keeps_its_text() -> None:
    """A message that is nothing but a quote still yields its words rather than nothing."""
    assert readable_text("> only a quote") == "> only a quote"
