"""Mail over the size or MIME-part cap: not read, quarantined, the sender told once (dovecot, SMTP)."""

from __future__ import annotations

from email.message import EmailMessage

from sqlalchemy import func, select

from bot.store.models import Message
from tests.channels.email.conftest import PERSON, EmailHarness, make_mail, quarantined, wait_until


def many_parts(count: int) -> bytes:
    """An erasure request carrying ``count`` tiny attachments."""
    mail = EmailMessage()
    mail["From"] = PERSON
    mail["To"] = "privacy@zynorlink.example"
    mail["Subject"] = "Delete my account"
    mail["Message-ID"] = "<parts-1@example.com>"
    mail.set_content("Please delete my account.")
    for number in range(count):
        mail.add_attachment(b"x", maintype="application", subtype="octet-stream", filename=f"{number}.bin")
    return mail.as_bytes()


async def stored_messages(email: EmailHarness) -> int:
    """How many messages the store holds."""
    async with email.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(Message)) or 0)


async def test_oversized_mail_was_stored_whole(email: EmailHarness) -> None:
    """Regression: a 20 MB mail was fetched and stored whole (holding the write lock for seconds). A mail
    over PRIVACYBOT_MAIL_MAX_BYTES is refused from its IMAP size: quarantined, nothing stored, and the
    sender gets one polite reply in its thread."""
    email.settings = email.settings.model_copy(update={"mail_max_bytes": 20_000})
    await email.start()
    await email.send(make_mail("Please delete my account.\n" + "padding line\n" * 4000))

    moved = await wait_until(lambda: quarantined(email), lambda found: len(found) == 1)
    assert len(moved[0].raw) > 20_000
    replies = await email.wait_replies(1)
    assert [m.rcpt_tos for m in replies] == [(PERSON,)]
    assert "larger than" in replies[0].text and replies[0].message["Auto-Submitted"] == "auto-replied"
    assert await stored_messages(email) == 0 and await email.ticket_count() == 0
    assert await email.mailbox.alist_folder("INBOX") == []


async def test_mail_with_thousands_of_parts_was_accepted(email: EmailHarness) -> None:
    """Regression: a 5,000-part mail was accepted. Over PRIVACYBOT_MAIL_MAX_PARTS (50) it is quarantined
    and answered once; a mail with a handful of parts is read as usual."""
    await email.start()
    await email.send(many_parts(60))
    await wait_until(lambda: quarantined(email), lambda found: len(found) == 1)
    replies = await email.wait_replies(1)
    assert "more than 50 parts" in replies[0].text
    assert await stored_messages(email) == 0
    await email.stop()
    await email.start()  # a restart does not answer the quarantined mail again
    await email.send(
        make_mail("Please delete my account and erase my data.", message_id="<ok-1@example.com>")
    )
    await email.wait_replies(2)
    assert len([m for m in email.replies() if "more than 50 parts" in m.text]) == 1
