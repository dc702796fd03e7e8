"""A MailSender for machines without a mail server: each message is written as an .eml file into a spool
folder, so a newcomer running `make run` can open the code mail and finish a request end to end."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from bot.mail import MailDeliveryError, complete_headers

log = logging.getLogger(__name__)


class SpoolMailSender:
    """Writes every message to ``directory`` instead of sending it."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def send(self, message: EmailMessage) -> None:
        """Write ``message`` to a new file in the spool folder (0600: it may hold a code)."""
        complete_headers(message)
        name = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}.eml"
        try:
            path = await asyncio.to_thread(self._write, name, message.as_bytes())
        except OSError as exc:
            raise MailDeliveryError(f"cannot write to the mail spool: {exc.strerror}") from exc
        log.info("mail written to %s (no PRIVACYBOT_SMTP_HOST set)", path)

    def _write(self, name: str, data: bytes) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / name
        tmp = path.with_suffix(".tmp")
        tmp.touch(mode=0o600)
        tmp.write_bytes(data)
        tmp.replace(path)
        return path
