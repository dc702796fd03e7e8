"""One logging filter that takes what must never be logged out of every record, whoever logged it.

Installed by the wiring point on the root handlers, so it covers our loggers and every library's alike:
email addresses, six-digit codes, web-chat session ids, API and bot tokens, and message bodies in
``text=``/``"text":`` fields become placeholders. Ticket references (``PRV-XXXX-XXXX``) are kept: they are
what an officer searches the log for. The record is formatted once, redacted, and its arguments dropped.
"""

from __future__ import annotations

import logging
import re

# Third-party loggers that write what goes over the wire (SQL with parameters, IMAP lines, HTTP bodies).
WIRE_LOGGERS = (
    "aiosqlite",
    "aioimaplib",
    "aioimaplib.aioimaplib",
    "asyncpg",
    "sqlalchemy.engine",
    "sqlalchemy.pool",
    "aiohttp.client",
    "aiohttp.access",
    "aiohttp.server",
    "aiohttp.web",
    "aiogram.event",
    "aiosmtplib",
    "mail.log",
    "urllib3",
    "httpx",
    "httpcore",
)

_REDACTIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    # message bodies first: they may hold any of the rest
    (re.compile(r"""(["']?text["']?\s*[:=]\s*)(["'])(?:\\.|(?!\2).)*\2""", re.S), r"\1\2[text]\2"),
    (re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+"), "[address]"),
    (re.compile(r"\bpbo_[\w-]{20,}"), "[token]"),
    (re.compile(r"\b\d{6,12}:[\w-]{30,}"), "[token]"),  # a Telegram bot token
    (re.compile(r"\b[\w-]{32}\.[\w-]{22}\b"), "[session]"),  # a web-chat session id
    (re.compile(r"(?<![\w-])\d(?:[ -]?\d){5}(?![\w-])"), "[code]"),
)


def redact(text: str) -> str:
    """``text`` with every address, code, session id, token and message body replaced."""
    for pattern, placeholder in _REDACTIONS:
        text = pattern.sub(placeholder, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites each record's message with :func:`redact` (and its exception text too)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact ``record`` in place; never drops it."""
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a bad format string is still logged, redacted
            message = f"{record.msg} {record.args}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def install_redaction(*, level: str, wire: bool, fmt: str) -> None:
    """Log to stderr at ``level`` through the redacting filter; wire loggers stay at WARNING unless
    ``wire`` (PRIVACYBOT_LOG_WIRE)."""
    logging.basicConfig(level=level.upper(), format=fmt)
    root = logging.getLogger()
    root.setLevel(level.upper())  # also when a handler was there before (basicConfig then does nothing)
    for handler in root.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
    for name in WIRE_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET if wire else logging.WARNING)
