"""Authentication-Results: only our server's verdicts count, and only for the From domain."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from bot.channels.email.authentication import AuthVerdict, parse_authentication_results, verify_sender

OURS = "mx.zynorlink.example"


def _mail(*results: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "anna@example.com"
    for value in results:
        mail["Authentication-Results"] = value
    mail.set_content("hello")
    return mail


def test_parser_reads_methods_properties_and_skips_comments() -> None:
    """Comments vanish; each resinfo gives method, result and properties."""
    server, results = parse_authentication_results(
        f"{OURS} 1; dkim=pass (2048-bit key) header.d=example.com header.i=@example.com; "
        'dmarc=fail (p=none) header.from="example.com"'
    )
    assert server == OURS
    assert [(r.method, r.result) for r in results] == [("dkim", "pass"), ("dmarc", "fail")]
    assert results[0].properties["header.d"] == "example.com"
    assert results[1].properties["header.from"] == "example.com"


@pytest.mark.parametrize(
    ("header", "verdict"),
    [
        (f"{OURS}; dmarc=pass header.from=example.com", AuthVerdict.DMARC),
        (f"{OURS}; dkim=pass header.d=example.com", AuthVerdict.DKIM),
        (f"{OURS}; dkim=pass header.i=anna@example.com", AuthVerdict.DKIM),
        (f"{OURS}; dkim=pass header.d=mailer.example.net", AuthVerdict.NONE),
        (f"{OURS}; dmarc=pass header.from=other.example", AuthVerdict.NONE),
        (f"{OURS}; dmarc=fail header.from=example.com; dkim=fail header.d=example.com", AuthVerdict.NONE),
        ("evil.example; dmarc=pass header.from=example.com", AuthVerdict.NONE),
    ],
)
def test_verdict_needs_our_server_and_the_from_domain(header: str, verdict: AuthVerdict) -> None:
    """Our topmost header decides: DMARC pass (aligned From) proves, aligned DKIM is only noted."""
    assert verify_sender(_mail(header), "anna@example.com", OURS) is verdict


def test_nothing_is_trusted_without_a_configured_authserv_id() -> None:
    """With no authserv-id set, every From address is only claimed."""
    assert verify_sender(_mail(f"{OURS}; dmarc=pass"), "anna@example.com", None) is AuthVerdict.NONE


def test_a_forged_header_beside_ours_does_not_help() -> None:
    """A sender-written header with another id is ignored; ours decides."""
    mail = _mail(
        f"{OURS}; dmarc=fail header.from=example.com", "example.com; dmarc=pass header.from=example.com"
    )
    assert verify_sender(mail, "anna@example.com", OURS) is AuthVerdict.NONE


def test_forged_header_with_our_id_below_the_real_one_was_trusted() -> None:
    """Regression: a sender-written header carrying OUR authserv-id, below the one our server prepended
    (``dmarc=fail``), opened a verified ticket. Only the topmost header is read now."""
    mail = _mail(
        f"{OURS}; dmarc=fail header.from=example.com",
        f"{OURS}; dmarc=pass header.from=example.com",
    )
    assert verify_sender(mail, "anna@example.com", OURS) is AuthVerdict.NONE


def test_trusted_header_count_reads_that_many_from_the_top() -> None:
    """With two trusted headers (two hops of ours) the second one from the top counts; the third does not."""
    ours_then_forged = _mail(
        f"{OURS}; spf=pass smtp.mailfrom=example.com",
        f"{OURS}; dmarc=pass header.from=example.com",
        f"{OURS}; dmarc=pass header.from=example.com",
    )
    assert verify_sender(ours_then_forged, "anna@example.com", OURS, trusted_headers=2) is AuthVerdict.DMARC
    assert verify_sender(ours_then_forged, "anna@example.com", OURS, trusted_headers=1) is AuthVerdict.NONE


def test_dkim_pass_without_dmarc_pass_no_longer_proves_the_sender() -> None:
    """Regression: an aligned DKIM pass counted as proof; only DMARC pass with aligned From does now."""
    verdict = verify_sender(_mail(f"{OURS}; dkim=pass header.d=example.com"), "anna@example.com", OURS)
    assert verdict is AuthVerdict.DKIM and not verdict.proves_address
    unaligned = _mail(f"{OURS}; dmarc=pass")
    assert not verify_sender(unaligned, "anna@example.com", OURS).proves_address
