"""Quote, signature and HTML stripping: what people wrote, without what they quoted or signed."""

from __future__ import annotations

from bot.channels.email.cleaning import clean_body, html_to_text, reflow, strip_quotes, strip_signature


def test_gmail_attribution_and_quoted_lines_are_cut() -> None:
    """Everything from "On … wrote:" on is the earlier mail."""
    text = (
        "123456\n\nOn Mon, 2 Mar 2026 at 09:00, ZynorLink <bot@zynorlink.example> wrote:\n> I've sent a code"
    )
    assert clean_body(text) == "123456"


def test_attribution_wrapped_over_two_lines_is_cut() -> None:
    """Clients wrap long attribution lines; the quote still starts there."""
    text = (
        "Thanks for the update.\n\nOn Mon, 2 Mar 2026 at 09:00, ZynorLink Privacy Assistant\n"
        "<bot@x.example> wrote:\n> hi"
    )
    assert clean_body(text) == "Thanks for the update."


def test_interleaved_quote_lines_are_dropped_and_answers_kept() -> None:
    """``>`` lines go; the person's own lines between them stay."""
    text = "> What is your address?\nanna@example.com\n> Anything else?\nNo, that is all."
    assert strip_quotes(text) == "anna@example.com\nNo, that is all."


def test_outlook_original_message_and_header_block_are_cut() -> None:
    """Outlook's "-----Original Message-----" and its From:/Sent:/To: block both start the quote."""
    assert clean_body("Yes please.\n-----Original Message-----\nFrom: bot\nSent: today") == "Yes please."
    outlook = (
        "Please go ahead.\n\nFrom: ZynorLink <bot@zynorlink.example>\nSent: Monday, 2 March 2026 09:00\n"
        "To: Anna <anna@example.com>\nSubject: Your request\n\nHello Anna"
    )
    assert clean_body(outlook) == "Please go ahead."


def test_a_sentence_starting_with_from_is_not_a_quote() -> None:
    """ "From: …" alone is not Outlook's header block."""
    assert (
        strip_quotes("From: my side, please delete it all.\nThanks")
        == "From: my side, please delete it all.\nThanks"
    )


def test_signature_after_dashes_and_mobile_footer_are_cut() -> None:
    """The ``-- `` delimiter and "Sent from my iPhone" end the message."""
    assert strip_signature("Delete my account.\n-- \nAnna K\n+49 123") == "Delete my account."
    assert strip_signature("Delete my account.\n\nSent from my iPhone") == "Delete my account.\n"


def test_closing_with_short_name_is_cut_but_a_closing_sentence_is_kept() -> None:
    """ "Best regards,\\nAnna" goes; "Thanks, please also …" is content and stays."""
    assert (
        clean_body("Please delete my account.\n\nBest regards,\nAnna Kowalski") == "Please delete my account."
    )
    body = "Please delete my account.\nThanks, please also confirm by mail."
    assert clean_body(body) == body


def test_a_mail_that_is_only_thanks_keeps_its_word() -> None:
    """A closing with nothing above it is the message itself."""
    assert clean_body("Thank you!") == "Thank you!"


def test_hard_wrapped_lines_are_joined_and_sentences_kept_apart() -> None:
    """A paragraph wrapped at 72 columns becomes one line; separate asks keep their own lines."""
    text = "I would like you to delete\nmy account and all data.\nAlso send me a copy first\n\nThanks"
    assert (
        reflow(text)
        == "I would like you to delete my account and all data.\nAlso send me a copy first\nThanks"
    )


def test_html_to_text_drops_script_style_and_quotes() -> None:
    """Visible text only, one block per line; scripts, styles, blockquotes and Gmail quotes are gone."""
    html = (
        "<html><head><title>t</title><style>p{}</style></head><body><script>x()</script>"
        "<p>Hello &amp; welcome,</p><div>please <b>delete</b> my data.<br>Now.</div>"
        "<blockquote>old mail</blockquote><div class='gmail_quote'><div>older</div></div>"
        "<p>Bye</p></body></html>"
    )
    assert html_to_text(html) == "Hello & welcome,\n\nplease delete my data.\nNow.\n\nBye"
