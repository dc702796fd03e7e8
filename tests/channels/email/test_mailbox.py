"""The privacy mailbox end to end: dovecot IMAP in, aiosmtpd SMTP out, the real conversation and SQL store."""

from __future__ import annotations

import asyncio
import re

from sqlalchemy import select

from bot.channels.email.parsing import dedup_key
from bot.conversation.engine import TurnResult
from bot.domain.tickets import IdentityMethod, IdentityStatus, RequestKind
from bot.messages import ATTACHMENTS_META, InboundMessage
from bot.store.models import Message, MessageDirection
from tests.channels.email.conftest import (
    AUTHSERV_ID,
    PERSON,
    EmailHarness,
    make_mail,
    quarantined,
    reply_to,
    wait_until,
)
from tests.support.mail_servers import extract_code

REFERENCE = re.compile(r"\[(PRV-[0-9A-Z]{4}-[0-9A-Z]{4})\]")
ERASURE = "Hello,\n\nplease delete my ZynorLink account and erase my personal data.\n\nBest regards,\nAnna"
DMARC_PASS = {
    "Authentication-Results": f"{AUTHSERV_ID}; spf=pass smtp.mailfrom=example.com; "
    "dkim=pass header.d=example.com; dmarc=pass (p=reject) header.from=example.com"
}


async def test_erasure_by_mail_is_verified_by_code_and_ticketed_in_one_thread(email: EmailHarness) -> None:
    """An erasure request is answered in its thread, verified by a mailed code, and opens a ticket whose
    reference is in the subject; a later reply in that thread lands on the ticket."""
    await email.start()
    original = make_mail(ERASURE)
    await email.send(original)

    [first] = await email.wait_replies(1)
    assert first.rcpt_tos == (PERSON,)
    original_id = re.search(rb"Message-ID: (<[^>]+>)", original)
    assert original_id is not None
    assert str(first.message["In-Reply-To"]) == original_id.group(1).decode()
    assert first.subject == "Re: Delete my account"
    assert "html" in {part.get_content_subtype() for part in first.message.walk()}
    [code_mail] = await email.smtp.sink.wait_for(
        lambda m: "code" in m.text.lower() and m not in email.replies()
    )
    assert await email.ticket_count() == 0

    await email.send(reply_to(first, extract_code(code_mail)))
    second = (await email.wait_replies(2))[1]
    assert str(second.message["In-Reply-To"]) != str(first.message["In-Reply-To"])
    assert str(first.message["Message-ID"]) in str(second.message["References"])
    found = REFERENCE.search(second.subject)
    assert found, second.subject
    reference = found.group(1)
    [ticket] = await email.tickets()
    assert (ticket.reference, ticket.kind) == (reference, RequestKind.ERASURE)
    assert (ticket.identity_status, ticket.identity_method) == (
        IdentityStatus.VERIFIED,
        IdentityMethod.EMAIL_CODE,
    )

    await email.send(reply_to(second, "Please also remove the photos I uploaded in 2023 from my profile."))
    third = (await email.wait_replies(3))[2]
    assert reference in third.subject
    assert "requester_message" in await email.ticket_events(reference)
    assert await email.ticket_count() == 1
    await email.wait_done(3)


async def test_dmarc_pass_opens_the_ticket_without_a_code(email: EmailHarness) -> None:
    """A mail whose DMARC passed at our own server proves the address: the ticket opens at once."""
    await email.start()
    await email.send(make_mail(ERASURE, headers=DMARC_PASS))

    [reply] = await email.wait_replies(1)
    assert REFERENCE.search(reply.subject)
    [ticket] = await email.tickets()
    assert ticket.identity_method is IdentityMethod.EMAIL_DMARC
    assert ticket.requester_address == PERSON
    assert email.code_mails() == []


async def test_auto_replies_and_bounces_get_no_answer(email: EmailHarness) -> None:
    """Out-of-office replies, list mail and bounces are marked done but never answered."""
    await email.start()
    await email.send(
        make_mail(
            "I am out of the office until Monday.",
            subject="Out of office",
            headers={"Auto-Submitted": "auto-replied"},
        )
    )
    await email.send(
        make_mail("Weekly digest: delete your old files!", headers={"List-Id": "<news.example.com>"})
    )
    bounce = make_mail(
        "Delivery to the following recipient failed permanently.",
        subject="Undeliverable",
        sender="MAILER-DAEMON@mx.example.com",
    )
    await email.send(bounce)
    await email.send(make_mail(ERASURE, sender="sentinel@example.org"))

    await email.wait_replies(1)
    await email.wait_done(4)
    assert [m.rcpt_tos for m in email.replies()] == [("sentinel@example.org",)]


async def test_malformed_mail_is_quarantined_not_lost(email: EmailHarness) -> None:
    """A mail without a sender address moves to the quarantine folder (created on demand)."""
    await email.start()
    await email.send(b"Subject: who sent this?\r\n\r\nplease delete everything\r\n")

    found = await wait_until(lambda: quarantined(email), lambda mail: len(mail) == 1)
    assert b"who sent this?" in found[0].raw
    assert await email.mailbox.alist_folder("INBOX") == []
    assert email.smtp.sink.messages == []


async def test_crash_between_fetch_and_store_processes_the_mail_exactly_once(email: EmailHarness) -> None:
    """A channel dying after fetching a mail but before storing its turn leaves it unmarked; after a restart
    the mail is handled once: one reply, one ticket."""
    crashed = asyncio.Event()

    async def crashing_handle(inbound: InboundMessage) -> TurnResult:
        crashed.set()
        raise RuntimeError("simulated crash before the turn is stored")

    await email.start(crashing_handle)
    await email.send(make_mail(ERASURE, headers=DMARC_PASS))
    await asyncio.wait_for(crashed.wait(), 20)
    await email.stop()
    [stored] = await email.mailbox.alist_folder()
    assert "$PrivacybotDone" not in stored.flags
    assert email.smtp.sink.messages == [] and await email.ticket_count() == 0

    handle = email.make_handle()
    calls: list[str] = []

    async def counting_handle(inbound: InboundMessage) -> TurnResult:
        calls.append(inbound.message_id or "")
        return await handle(inbound)

    await email.start(counting_handle)
    await email.wait_replies(1)
    await email.wait_done(1)
    await email.stop()
    await email.start(counting_handle)  # a second restart finds nothing left to do
    await email.send(make_mail(ERASURE, sender="sentinel@example.org", headers=DMARC_PASS))
    await email.smtp.sink.wait_for(lambda m: m.rcpt_tos == ("sentinel@example.org",))
    assert len([m for m in email.replies() if m.rcpt_tos == (PERSON,)]) == 1
    assert len(set(calls)) == len(calls) == 2
    assert [t.requester_address for t in await email.tickets()] == [PERSON]


async def test_two_requests_in_one_mail_open_two_tickets(email: EmailHarness) -> None:
    """A mail asking for erasure and for a copy of the data opens both tickets; the reply names both."""
    await email.start()
    body = (
        "Hello,\n\nplease delete my account.\n"
        "Please also send me a copy of all the personal data you hold about me.\n\nThanks,\nAnna"
    )
    await email.send(make_mail(body, subject="Two requests", headers=DMARC_PASS))

    [reply] = await email.wait_replies(1)
    kinds = {t.kind for t in await email.tickets()}
    assert kinds == {RequestKind.ERASURE, RequestKind.ACCESS}
    assert len(REFERENCE.findall(reply.subject)) == 2


async def test_html_only_and_latin1_mails_are_understood(email: EmailHarness) -> None:
    """An HTML-only mail (with style and script) and an ISO-8859-1 mail each open an erasure ticket, and the
    stored text is the decoded words, without markup."""
    await email.start()
    html = (
        "<html><head><style>p {color: red}</style><script>alert('x')</script></head><body>"
        "<p>Hello,</p><p>please delete my ZynorLink account and erase my personal data.</p>"
        '<div class="gmail_quote">On Monday someone wrote: send me my data</div></body></html>'
    )
    await email.send(
        make_mail(
            html=html,
            sender="html@example.com",
            headers={"Authentication-Results": f"{AUTHSERV_ID}; dmarc=pass header.from=example.com"},
        )
    )
    latin = "Grüß Gott,\n\nplease delete my ZynorLink account and erase my personal data.\n\nJürgen Müller"
    await email.send(
        make_mail(
            latin,
            sender="jurgen@example.com",
            charset="iso-8859-1",
            headers={"Authentication-Results": f"{AUTHSERV_ID}; dmarc=pass header.from=example.com"},
        )
    )

    await email.wait_replies(2)
    assert [t.kind for t in await email.tickets()] == [RequestKind.ERASURE, RequestKind.ERASURE]
    async with email.sessionmaker() as session:
        texts = (
            await session.scalars(
                select(Message.text).where(Message.direction == MessageDirection.INBOUND).order_by(Message.id)
            )
        ).all()
    assert "<" not in texts[0] and "alert" not in texts[0] and "send me my data" not in texts[0]
    assert texts[1].startswith("Grüß Gott")


async def test_large_attachment_is_noted_not_stored(email: EmailHarness) -> None:
    """An attachment over the size cap is not kept; the stored message notes its name and size."""
    from email.message import EmailMessage

    mail = EmailMessage()
    mail["From"] = PERSON
    mail["To"] = "privacy@zynorlink.example"
    mail["Subject"] = "Delete my account"
    mail["Message-ID"] = "<attachment-1@example.com>"
    mail.set_content(ERASURE)
    mail.add_attachment(b"%PDF" + b"x" * 5000, maintype="application", subtype="pdf", filename="id-card.pdf")
    await email.start()
    await email.send(mail.as_bytes())

    await email.wait_replies(1)
    async with email.sessionmaker() as session:
        stored = await session.scalar(
            select(Message).where(
                Message.channel_message_id == dedup_key(PERSON, "<attachment-1@example.com>")
            )
        )
    assert stored is not None and stored.meta is not None
    assert stored.meta[ATTACHMENTS_META] == "attachment: id-card.pdf, 5 KB, not stored"


async def test_another_sender_reusing_a_message_id_suppressed_a_request(email: EmailHarness) -> None:
    """Regression: de-duplication trusted the Message-ID across senders, so another sender reusing an id
    silently suppressed a request. Keyed by sender and Message-ID, both mails are answered; the same
    sender's redelivery still is not."""
    await email.start()
    await email.send(make_mail(ERASURE, message_id="<reused-1@example.com>"))
    await email.wait_replies(1)
    await email.send(make_mail(ERASURE, sender="boris@example.org", message_id="<reused-1@example.com>"))
    await email.send(make_mail(ERASURE, message_id="<reused-1@example.com>"))
    await email.wait_done(3)
    await email.wait_replies(2)
    assert sorted(m.rcpt_tos for m in email.replies()) == [("anna.k@example.com",), ("boris@example.org",)]
