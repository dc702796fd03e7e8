"""One raw mail → :class:`ParsedMail`: sender, threading ids, the cleaned text and notes on attachments.

Any charset is decoded (``email.policy.default``, falling back to UTF-8 with replacement on unknown or
wrong charsets); HTML-only mail is turned into text. A mail without a usable From address, or one the
parser cannot take apart, raises :class:`MalformedMail` (the channel quarantines it).
"""

from __future__ import annotations

import email.errors
import email.policy
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses

from bot.channels.email.cleaning import clean_body, html_to_text

_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_REPLY_PREFIX = re.compile(r"^\s*((re|aw|sv|antw|antwort|r|réf|ref|vs)\s*(\[\d+\])?\s*:\s*)+", re.I)
_MAX_ID_CHARS = 500
_MAX_REFERENCES = 20
_MAX_SUBJECT_CHARS = 200
_MAX_FILENAME_CHARS = 100
# A new mail whose body is shorter than this is read together with its subject.
_SHORT_BODY_WORDS = 5
# What the email library may raise on a broken header or part: the mail is malformed, never lost.
PARSE_ERRORS = (
    email.errors.MessageError,
    ValueError,
    LookupError,
    IndexError,
    TypeError,
    UnicodeError,
    AttributeError,
)


class MalformedMail(Exception):
    """A mail that cannot be understood (no sender address, unparseable headers); it goes to quarantine."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class OversizedMail(Exception):
    """A mail over a cap (its size or its number of MIME parts): quarantined, the sender told once."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Attachment:
    """An attached file: only its name and size are noted; files over the cap are not stored."""

    filename: str
    size: int
    stored: bool

    def note(self) -> str:
        """``attachment: scan.pdf, 2.1 MB, not stored`` — what the officer sees."""
        suffix = "" if self.stored else ", not stored"
        return f"attachment: {self.filename}, {human_size(self.size)}{suffix}"


@dataclass(frozen=True)
class ParsedMail:
    """What the channel needs of a mail. ``message_id`` is the Message-ID, or a stable hash when absent."""

    message: EmailMessage
    message_id: str
    sender: str
    subject: str
    text: str
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    attachments: tuple[Attachment, ...]
    is_reply: bool


def human_size(size: int) -> str:
    """``2.1 MB``, ``120 KB``, ``512 B``."""
    if size >= 1_000_000:
        return f"{size / 1_000_000:.1f} MB"
    if size >= 1_000:
        return f"{size / 1_000:.0f} KB"
    return f"{size} B"


def parse_bytes(raw: bytes) -> EmailMessage:
    """The message in ``raw`` (``email.policy.default``). Raises MalformedMail if it has no headers at all."""
    try:
        message = BytesParser(policy=email.policy.default).parsebytes(raw)
    except PARSE_ERRORS as exc:
        raise MalformedMail(f"unparseable: {type(exc).__name__}") from exc
    if not isinstance(message, EmailMessage) or not message.keys():
        raise MalformedMail("no headers")
    return message


def parse_mail(raw: bytes, *, attachment_max_bytes: int, max_parts: int | None = None) -> ParsedMail:
    """Take ``raw`` apart. Raises MalformedMail when there is no single usable From address, OversizedMail
    when it has more than ``max_parts`` MIME parts."""
    message = parse_bytes(raw)
    if max_parts is not None and count_parts(message) > max_parts:
        raise OversizedMail("parts")
    try:
        sender = sender_address(message)
        subject = _clean_line(str(message.get("Subject", "")))[:_MAX_SUBJECT_CHARS]
        in_reply_to = message_ids(str(message.get("In-Reply-To", "")))
        references = message_ids(str(message.get("References", "")))[-_MAX_REFERENCES:]
        body_part = message.get_body(preferencelist=("plain", "html"))
        body = _body_text(body_part)
        attachments = tuple(_attachments(message, body_part, attachment_max_bytes))
        own_id = message_ids(str(message.get("Message-ID", "")))
    except PARSE_ERRORS as exc:
        raise MalformedMail(f"unreadable header or part: {type(exc).__name__}") from exc
    is_reply = bool(in_reply_to) or bool(_REPLY_PREFIX.match(subject))
    text = clean_body(body)
    short = len(text.split()) < _SHORT_BODY_WORDS
    if subject and not is_reply and short and subject.lower() not in text.lower():
        text = f"{subject}\n{text}".strip()  # subject "Delete my account", body "Thanks": the ask is above
    message_id = own_id[0] if own_id and len(own_id[0]) <= _MAX_ID_CHARS else content_hash(message, body)
    return ParsedMail(
        message=message,
        message_id=message_id,
        sender=sender,
        subject=subject,
        text=text,
        in_reply_to=in_reply_to,
        references=references,
        attachments=attachments,
        is_reply=is_reply,
    )


def count_parts(message: Message) -> int:
    """How many MIME parts the message has, itself included (stops counting past a million)."""
    count = 0
    for count, _ in enumerate(message.walk(), start=1):
        if count > 1_000_000:
            break
    return count


def sender_address(message: EmailMessage | Message) -> str:
    """The one From address, lower-cased. Raises MalformedMail when there is none or several."""
    values = message.get_all("From") or []
    pairs = [addr for _, addr in getaddresses([str(v) for v in values]) if addr]
    if len(pairs) != 1:
        raise MalformedMail("no From address" if not pairs else "several From addresses")
    address = pairs[0].strip().lower()
    local, at, domain = address.rpartition("@")
    if not at or not local or "." not in domain or any(ch.isspace() for ch in address):
        raise MalformedMail("unusable From address")
    return address


def message_ids(value: str) -> tuple[str, ...]:
    """The ``<...>`` ids in a Message-ID, In-Reply-To or References header, in order, each once."""
    found = (m.group(0) for m in _MESSAGE_ID.finditer(value))
    return tuple(dict.fromkeys(i for i in found if len(i) <= _MAX_ID_CHARS))


def dedup_key(sender: str, message_id: str) -> str:
    """The id a mail is de-duplicated by: its sender AND its Message-ID (or content hash), so that another
    sender reusing an id cannot make a request look like one already handled."""
    digest = hashlib.sha256(f"{sender.strip().lower()}\n{message_id}".encode("utf-8", "replace"))
    return f"mail:{digest.hexdigest()}"


def content_hash(message: EmailMessage, body: str) -> str:
    """A stable id for a mail without Message-ID: a hash of its identifying headers and body."""
    digest = hashlib.sha256()
    for name in ("From", "To", "Date", "Subject"):
        digest.update(f"{name}:{message.get(name, '')}\n".encode("utf-8", "replace"))
    digest.update(body.encode("utf-8", "replace"))
    return f"sha256:{digest.hexdigest()}"


def part_text(part: Message) -> str:
    """The decoded text of one part, whatever its declared charset (bad ones fall back to UTF-8)."""
    if isinstance(part, EmailMessage):
        try:
            content = part.get_content()
        except (LookupError, UnicodeError, KeyError, AssertionError):
            content = None
        if isinstance(content, str):
            return content
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, "replace")
    except LookupError:
        return payload.decode("utf-8", "replace")


def _body_text(part: Message | None) -> str:
    if part is None:
        return ""
    text = part_text(part)
    return html_to_text(text) if part.get_content_subtype() == "html" else text


def _attachments(message: EmailMessage, body: Message | None, max_bytes: int) -> list[Attachment]:
    found: list[Attachment] = []
    for part in message.walk():
        if part is body or part.is_multipart():
            continue
        filename = part.get_filename()
        if not filename and part.get_content_disposition() != "attachment":
            if part.get_content_maintype() == "text":
                continue  # the other alternative of the body
        payload = part.get_payload(decode=True)
        size = len(payload) if isinstance(payload, bytes) else 0
        name = _clean_line(filename or "unnamed")[:_MAX_FILENAME_CHARS] or "unnamed"
        found.append(Attachment(name, size, stored=size <= max_bytes))
    return found


def _clean_line(value: str) -> str:
    """One line of header text: control characters gone, whitespace collapsed."""
    kept = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in value)
    return " ".join(kept.split())


def reply_subject_base(subject: str) -> str:
    """The subject without any ``Re:``/``AW:`` prefixes."""
    return _REPLY_PREFIX.sub("", subject).strip()
