"""A real SMTP server for tests (aiosmtpd), and helpers the IMAP server (imap_server.py) shares.

Fixture ``smtp_server`` -> :class:`SmtpServer` (function scope): aiosmtpd on 127.0.0.1, AUTH PLAIN/LOGIN
over a plain connection with ``SMTP_USER`` / ``SMTP_PASSWORD``; accepted messages land in its ``sink``.
"""

from __future__ import annotations

import asyncio
import email.policy
import re
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

SMTP_USER = "mailer@example.test"
SMTP_PASSWORD = "smtp-test-password"
ENSURE_PACKAGES = Path(__file__).with_name("ensure_packages.sh")
_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")
_STYLE = re.compile(r"<(style|script)\b.*?</\1>", re.S | re.I)
_TAG = re.compile(r"<[^>]*>")


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ensure_packages() -> None:
    """Run ensure_packages.sh (apt-get installs dovecot and chromium only when their binaries are missing)."""
    subprocess.run(["bash", str(ENSURE_PACKAGES)], check=True, stdin=subprocess.DEVNULL, timeout=900)


# ------------------------------------------------------------------------------------------------ SMTP


@dataclass(frozen=True)
class ReceivedMail:
    """One message accepted by the SMTP sink: the SMTP envelope plus the parsed message."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    raw: bytes
    auth_user: str | None

    @property
    def subject(self) -> str:
        """Return the decoded Subject header ('' when absent)."""
        return str(self.message.get("Subject", ""))

    @property
    def text(self) -> str:
        """Return the text/plain body, or the text/html body when there is no plain part."""
        return message_text(self.message)


def message_text(message: EmailMessage) -> str:
    """Return the preferred text body of ``message`` (plain over HTML), '' when it has none."""
    part = message.get_body(preferencelist=("plain", "html"))
    return "" if part is None else str(part.get_content())


def extract_code(message: EmailMessage | ReceivedMail) -> str:
    """Return the first 6-digit code in the body of ``message``; raise ``ValueError`` when there is none."""
    body = message.text if isinstance(message, ReceivedMail) else message_text(message)
    body = _TAG.sub(" ", _STYLE.sub(" ", body))  # HTML bodies: ignore markup such as colour #123456
    found = _CODE.search(body)
    if found is None:
        raise ValueError("no 6-digit code in the message body")
    return found.group(1)


class MailSink:
    """Thread-safe collector of the messages the SMTP server accepted, in arrival order."""

    def __init__(self) -> None:
        """Start with no messages."""
        self.messages: list[ReceivedMail] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Parse and store one message (aiosmtpd handler hook)."""
        raw = envelope.original_content or b""
        parsed = BytesParser(policy=email.policy.default).parsebytes(raw)
        user = session.auth_data if isinstance(session.auth_data, str) else None
        self.messages.append(
            ReceivedMail(
                mail_from=envelope.mail_from or "",
                rcpt_tos=tuple(envelope.rcpt_tos),
                message=parsed,
                raw=raw,
                auth_user=user,
            )
        )
        return "250 Message accepted for delivery"

    async def wait_for(
        self,
        condition: int | Callable[[ReceivedMail], bool] = 1,
        timeout: float = 5,  # noqa: ASYNC109 - a deadline argument is the helper's documented API
    ) -> list[ReceivedMail]:
        """Wait until ``condition`` holds and return the messages that satisfy it.

        An int waits for at least that many messages and returns them all; a predicate waits for one matching
        message and returns every match. Raises ``TimeoutError`` after ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while True:
            if isinstance(condition, int):
                if len(self.messages) >= condition:
                    return list(self.messages)
            else:
                matches = [mail for mail in self.messages if condition(mail)]
                if matches:
                    return matches
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"mail sink: condition not met in {timeout}s ({len(self.messages)} received)"
                )
            await asyncio.sleep(0.01)

    def last_to(self, address: str) -> ReceivedMail | None:
        """Return the latest message whose envelope recipients include ``address`` (case-insensitive)."""
        wanted = address.lower()
        for mail in reversed(self.messages):
            if wanted in (rcpt.lower() for rcpt in mail.rcpt_tos):
                return mail
        return None

    def clear(self) -> None:
        """Forget every message received so far."""
        self.messages.clear()


@dataclass
class SmtpServer:
    """A running aiosmtpd server; point an SMTP client at ``host``/``port`` with ``user``/``password``."""

    host: str
    port: int
    user: str
    password: str
    sink: MailSink
    controller: Controller = field(repr=False)


def _authenticate(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    """Accept exactly ``SMTP_USER`` / ``SMTP_PASSWORD``."""
    if isinstance(auth_data, LoginPassword):
        login, password = auth_data.login.decode(), auth_data.password.decode()
        if login == SMTP_USER and password == SMTP_PASSWORD:
            return AuthResult(success=True, auth_data=login)
    return AuthResult(success=False, handled=False)


def start_smtp_server(*, auth_required: bool = False, sink: MailSink | None = None) -> SmtpServer:
    """Start an aiosmtpd server on a free loopback port (stop it with ``server.controller.stop()``);
    ``sink`` replaces the default collector (one that answers slowly, say)."""
    sink = sink or MailSink()
    port = free_port()
    controller = Controller(
        sink,
        hostname="127.0.0.1",
        port=port,
        authenticator=_authenticate,
        auth_required=auth_required,
        auth_require_tls=False,
    )
    controller.start()
    return SmtpServer("127.0.0.1", port, SMTP_USER, SMTP_PASSWORD, sink, controller)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """Yield a real SMTP server accepting AUTH PLAIN/LOGIN without TLS (AUTH optional for clients)."""
    server = start_smtp_server()
    try:
        yield server
    finally:
        server.controller.stop()


# ------------------------------------------------------------------------------------------------ IMAP
