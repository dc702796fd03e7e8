"""MIME to ParsedMail: charsets, HTML-only mail, attachments, ids, malformed mail."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from bot.channels.email.parsing import MalformedMail, parse_mail


def _mail(body: str = "Please delete my account and erase my data.", **headers: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = headers.pop("From", "Anna <Anna.K@Example.com>")
    mail["Subject"] = headers.pop("Subject", "Delete my account")
    for name, value in headers.items():
        mail[name.replace("_", "-")] = value
    mail.set_content(body)
    return mail


def test_sender_is_the_lowercased_address_and_message_id_is_kept() -> None:
    """The From address identifies the sender; the Message-ID is the dedup key."""
    parsed = parse_mail(_mail(Message_ID="<a1@example.com>").as_bytes(), attachment_max_bytes=100)
    assert (parsed.sender, parsed.message_id) == ("anna.k@example.com", "<a1@example.com>")


def test_mail_without_message_id_gets_a_stable_hash() -> None:
    """The same mail twice gives the same id, a different one another."""
    raw = _mail().as_bytes()
    first = parse_mail(raw, attachment_max_bytes=100).message_id
    assert first.startswith("sha256:") and first == parse_mail(raw, attachment_max_bytes=100).message_id
    assert (
        first != parse_mail(_mail("Other text here please.").as_bytes(), attachment_max_bytes=100).message_id
    )


def test_unknown_charset_falls_back_instead_of_failing() -> None:
    """A body declared in a charset Python does not know is still read."""
    raw = (
        b"From: a@example.com\r\nSubject: x\r\nContent-Type: text/plain; charset=x-unknown-1\r\n\r\n"
        b"Please delete my account now.\r\n"
    )
    assert parse_mail(raw, attachment_max_bytes=100).text == "Please delete my account now."


def test_latin1_body_is_decoded() -> None:
    """ISO-8859-1 bytes become the right letters."""
    raw = (
        "From: a@example.com\r\nSubject: x\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\nGrüße, bitte löschen Sie mein Konto.\r\n"
    ).encode("latin-1")
    assert parse_mail(raw, attachment_max_bytes=100).text == "Grüße, bitte löschen Sie mein Konto."


def test_short_body_is_read_with_the_subject_but_a_reply_subject_is_not() -> None:
    """A new mail saying only "Thanks" carries its ask in the subject; "Re:" subjects are never prepended."""
    assert (
        parse_mail(_mail("Thanks").as_bytes(), attachment_max_bytes=100).text == "Delete my account\nThanks"
    )
    reply = _mail("123456", Subject="Re: Delete my account")
    assert parse_mail(reply.as_bytes(), attachment_max_bytes=100).text == "123456"


def test_attachments_are_noted_with_size_and_the_cap() -> None:
    """Each attachment is noted; one over the cap is marked not stored."""
    mail = _mail()
    mail.add_attachment(b"x" * 50, maintype="image", subtype="png", filename="small.png")
    mail.add_attachment(b"x" * 2_100_000, maintype="application", subtype="pdf", filename="scan.pdf")
    parsed = parse_mail(mail.as_bytes(), attachment_max_bytes=1_000_000)
    assert [a.note() for a in parsed.attachments] == [
        "attachment: small.png, 50 B",
        "attachment: scan.pdf, 2.1 MB, not stored",
    ]


@pytest.mark.parametrize(
    "raw",
    [
        b"Subject: no sender\r\n\r\nhello\r\n",
        b"From: not an address\r\nSubject: x\r\n\r\nhello\r\n",
        b"From: a@example.com, b@example.com\r\nSubject: x\r\n\r\nhello\r\n",
        b"\x00\xff\xfe garbage without headers",
    ],
)
def test_mail_without_one_usable_sender_is_malformed(raw: bytes) -> None:
    """No sender, an unusable one, or several: MalformedMail (the channel quarantines it)."""
    with pytest.raises(MalformedMail):
        parse_mail(raw, attachment_max_bytes=100)
