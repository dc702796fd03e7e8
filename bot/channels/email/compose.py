"""Reply mails (plain text + HTML from templates) with the headers that keep one request in one thread.

Threading both ways without a table: our Message-IDs carry the ticket reference
(``<prv-7k3q-9m2d.3f2a…@zynorlink.example>``), so a reply whose In-Reply-To/References names one of them
is tied to that ticket even when the person edited the subject; the subject carries ``[PRV-7K3Q-9M2D]`` too.
Either way the desk still checks that the ticket belongs to the sender before anything is attached.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

from bot.channels.email.parsing import reply_subject_base
from bot.mail import mail_domain
from bot.mail import message_id as make_message_id
from bot.messages import ATTACHMENTS_META, OutboundMessage
from responses import Responses

_ALPHABET = "[2-9A-HJ-NP-Z]"
TICKET_REFERENCE = re.compile(rf"\bPRV-{_ALPHABET}{{4}}-{_ALPHABET}{{4}}\b", re.I)
_OUR_ID = re.compile(rf"^<(prv-{_ALPHABET}{{4}}-{_ALPHABET}{{4}})\.[0-9a-f]{{8,64}}@([^<>@\s]+)>$", re.I)
_MAX_REFERENCES = 20

# Keys of InboundMessage.meta / OutboundMessage.meta this channel writes and reads.
META_MESSAGE_ID = "email_message_id"
META_REFERENCES = "email_references"
META_SUBJECT = "email_subject"
META_ATTACHMENTS = ATTACHMENTS_META
META_AUTH = "email_auth"


def outgoing_message_id(*, domain: str, reference: str | None, seed: str | None = None) -> str:
    """A Message-ID naming ``reference``; the same ``seed`` (the inbound mail's id) gives the same id."""
    return make_message_id(domain=domain, prefix=reference.lower() if reference else "r", seed=seed)


def thread_reference(subject: str, ids: Sequence[str], our_domain: str) -> str | None:
    """The ticket a mail belongs to: a PRV reference in the subject, else one of our Message-IDs it answers.

    ``ids`` are In-Reply-To first, then References newest first.
    """
    found = TICKET_REFERENCE.search(subject)
    if found:
        return found.group(0).upper()
    for message_id in ids:
        ours = _OUR_ID.match(message_id)
        if ours and ours.group(2).lower() == our_domain.lower():
            return ours.group(1).upper()
    return None


def thread_meta(*, message_id: str, references: Sequence[str], subject: str) -> dict[str, str]:
    """The meta entries that let a later reply join this mail's thread."""
    chain = [*references, message_id] if message_id.startswith("<") else list(references)
    return {
        META_MESSAGE_ID: message_id if message_id.startswith("<") else "",
        META_REFERENCES: " ".join(list(dict.fromkeys(chain))[-_MAX_REFERENCES:]),
        META_SUBJECT: subject,
    }


def compose_mail(
    messages: Sequence[OutboundMessage],
    *,
    sender: str,
    responses: Responses,
    seed: str | None = None,
    auto_reply: bool = True,
    now: datetime | None = None,
) -> EmailMessage:
    """One mail holding ``messages`` (all to the same recipient), threaded by the first one's meta.

    ``seed`` makes the Message-ID deterministic (a resent reply keeps its id). ``auto_reply`` marks the mail
    ``Auto-Submitted: auto-replied`` (RFC 3834) so other robots do not answer it.
    """
    if not messages:
        raise ValueError("nothing to compose")
    first = messages[0]
    meta: Mapping[str, str] = first.meta
    references = list(
        dict.fromkeys(r for m in messages for r in (m.ticket_reference, *m.other_references) if r)
    )
    original = reply_subject_base(meta.get(META_SUBJECT, ""))
    shown = [r for r in references if r.lower() not in original.lower()]
    lang = first.lang
    subject = responses.render_in(lang, "email/reply_subject.txt.j2", original=original, references=shown)
    choices = list(dict.fromkeys(choice.label for m in messages for choice in m.quick_replies))
    values = {
        "parts": [m.text for m in messages],
        "choices": choices,
        "references": references,
        "subject": subject,
    }
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = first.recipient_id
    mail["Subject"] = subject
    mail["Date"] = format_datetime(now or datetime.now(UTC))
    mail["Message-ID"] = outgoing_message_id(
        domain=mail_domain(sender), reference=references[0] if references else None, seed=seed
    )
    in_reply_to = meta.get(META_MESSAGE_ID, "")
    if in_reply_to.startswith("<"):
        mail["In-Reply-To"] = in_reply_to
    chain = meta.get(META_REFERENCES, "").split()
    if chain:
        mail["References"] = " ".join(chain[-_MAX_REFERENCES:])
    if auto_reply:
        mail["Auto-Submitted"] = "auto-replied"
    mail.set_content(responses.render_in(lang, "email/reply.txt.j2", **values) + "\n")
    mail.add_alternative(responses.render_in(lang, "email/reply.html.j2", **values) + "\n", subtype="html")
    return mail
