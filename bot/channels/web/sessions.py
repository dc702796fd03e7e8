"""Web chat session ids: unguessable, issued by this server, recognised after a restart.

An id is 24 random bytes (``secrets``) and an HMAC-SHA256 tag of them under the server's key, so the server
can tell its own ids from made-up ones without a table. The key is ``PRIVACYBOT_SECRET_KEY`` or, when that is
unset, a random key created once in the data directory (so ids survive a restart).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

from bot.channels.web.api import SESSION_ID_PATTERN
from bot.channels.web.errors import MalformedSession, UnknownSession
from bot.settings import Settings

KEY_FILE_NAME = "web-session.key"
_TOKEN_BYTES = 24
_TAG_CHARS = 22
_SHAPE = re.compile(SESSION_ID_PATTERN)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


class SessionIds:
    """Issues session ids and checks the ones clients send back."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the session key must be at least 16 bytes")
        self._key = key

    def _tag(self, token: str) -> str:
        digest = hmac.new(self._key, token.encode("ascii"), hashlib.sha256).digest()
        return _b64(digest)[:_TAG_CHARS]

    def issue(self) -> str:
        """A new, unguessable session id."""
        token = _b64(secrets.token_bytes(_TOKEN_BYTES))
        return f"{token}.{self._tag(token)}"

    def check(self, session_id: object) -> str:
        """``session_id`` if this server issued it. Raises MalformedSession or UnknownSession."""
        if not isinstance(session_id, str) or not _SHAPE.fullmatch(session_id):
            raise MalformedSession()
        token, _, tag = session_id.partition(".")
        if not hmac.compare_digest(tag, self._tag(token)):
            raise UnknownSession()
        return session_id


def load_session_key(settings: Settings) -> bytes:
    """The configured secret key, else the key file under the data directory (created on first use)."""
    if settings.secret_key is not None:
        return hashlib.sha256(b"web-session:" + settings.secret_key.get_secret_value().encode()).digest()
    path = Path(settings.data_dir) / KEY_FILE_NAME
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process created it first: use theirs
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(secrets.token_bytes(32))
    return path.read_bytes()
