"""Mail that must not be answered, and the per-sender reply cap."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from bot.channels.email.guards import SkipReason, hash_address, skip_reason

OWN = ("privacy-assistant@zynorlink.example", "privacy@zynorlink.example")


def _mail(**headers: str) -> EmailMessage:
    mail = EmailMessage()
    for name, value in headers.items():
        mail[name.replace("_", "-")] = value
    mail.set_content("hello")
    return mail


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"Auto_Submitted": "auto-replied"}, SkipReason.AUTO_REPLY),
        ({"X_Autoreply": "yes"}, SkipReason.AUTO_REPLY),
        ({"X_Autorespond": "yes"}, SkipReason.AUTO_REPLY),
        ({"Precedence": "bulk"}, SkipReason.BULK),
        ({"Precedence": "list"}, SkipReason.BULK),
        ({"List_Id": "<news.example.com>"}, SkipReason.BULK),
        ({"List_Unsubscribe": "<mailto:u@example.com>"}, SkipReason.BULK),
        ({"Return_Path": "<>"}, SkipReason.BOUNCE),
    ],
)
def test_loop_prone_mail_is_recognised(headers: dict[str, str], reason: SkipReason) -> None:
    """Auto-replies, bulk/list mail and bounces each get their reason."""
    assert skip_reason(_mail(**headers), "anna@example.com", OWN) is reason


def test_auto_submitted_no_is_a_person() -> None:
    """``Auto-Submitted: no`` is what a person's client writes: answer it."""
    assert (
        skip_reason(_mail(Auto_Submitted="no", Return_Path="<anna@example.com>"), "anna@example.com", OWN)
        is None
    )


def test_mailer_daemon_and_dsn_are_bounces_and_own_address_is_skipped() -> None:
    """MAILER-DAEMON, a multipart/report DSN, and our own address never get an answer."""
    assert skip_reason(_mail(), "mailer-daemon@mx.example.com", OWN) is SkipReason.BOUNCE
    dsn = _mail()
    dsn.make_mixed()
    dsn.replace_header("Content-Type", 'multipart/report; report-type="delivery-status"; boundary="b"')
    assert skip_reason(dsn, "postmaster-notice@example.com", OWN) is SkipReason.BOUNCE
    assert skip_reason(_mail(), "Privacy@ZynorLink.example", OWN) is SkipReason.OWN_ADDRESS


def test_address_hash_is_stable_and_not_the_address() -> None:
    """Log lines carry a pseudonym that matches across case, never the address."""
    assert hash_address("Anna@Example.com") == hash_address("anna@example.com")
    assert "anna" not in hash_address("anna@example.com")
