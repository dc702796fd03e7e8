"""Reply mails waiting to be sent, kept as files so a crash or an SMTP outage never loses an answer.

A reply is written here (atomically) before its inbound mail is marked done, sent, and then removed. Files are
named after the reply's Message-ID hash, so writing the same reply twice leaves one file and a resend
carries the same Message-ID.
"""

from __future__ import annotations

import asyncio
import email.policy
import hashlib
import logging
import os
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from bot.mail import MailDeliveryError, MailSender

log = logging.getLogger(__name__)


class PendingReplies:
    """A directory of ``.eml`` files, each one reply not yet handed to the SMTP server."""

    def __init__(self, directory: Path, sender: MailSender) -> None:
        """Keep pending mails in ``directory`` (created on first use) and send them through ``sender``."""
        self._directory = directory
        self._sender = sender
        self._lock = asyncio.Lock()

    def put(self, mail: EmailMessage) -> Path:
        """Store ``mail`` durably; returns its file."""
        self._directory.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha256(str(mail["Message-ID"]).encode()).hexdigest()[:32]
        path = self._directory / f"{name}.eml"
        temporary = path.with_suffix(".tmp")
        with temporary.open("wb") as handle:
            handle.write(mail.as_bytes(policy=email.policy.SMTP))
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(path)
        return path

    def pending(self) -> list[Path]:
        """The files waiting to be sent, oldest first."""
        if not self._directory.is_dir():
            return []
        return sorted(self._directory.glob("*.eml"), key=lambda p: (p.stat().st_mtime, p.name))

    async def send(self, path: Path) -> bool:
        """Send one stored mail and remove it; False (file kept for later) when the server refused it."""
        async with self._lock:
            raw = _read(path)
            if raw is None:
                return True  # already sent by an earlier flush
            mail = BytesParser(policy=email.policy.default).parsebytes(raw)
            try:
                await self._sender.send(mail)
            except MailDeliveryError as exc:
                log.warning("reply %s kept among the pending replies: %s", path.stem, exc)
                return False
            _remove(path)
            return True

    async def flush(self) -> int:
        """Try every pending mail once, stopping at the first refusal; returns how many went out."""
        sent = 0
        for path in self.pending():
            if not await self.send(path):
                break
            sent += 1
        return sent


def _read(path: Path) -> bytes | None:
    """The file's bytes, or None when it is gone (a small local file: read inline)."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)
