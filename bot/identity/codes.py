"""One-time codes as values: generation, salted scrypt hashes, constant-time checks and the resend limit.

Nothing here touches the database or the network; :mod:`bot.identity.verification` does.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.text import formula_prefixed, without_zero_width

CODE_DIGITS = 6
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1
_ADDRESS = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")


class InvalidAddress(ValueError):
    """The text is not a usable email address."""


@dataclass(frozen=True)
class CodePolicy:
    """How long a code lives, how many tries it allows, and how often a new one may be sent.

    ``max_failures`` wrong codes within ``failure_window`` (per address and per conversation, whatever the
    number of resends) start a cooling-off: no code is sent or checked until the oldest of them is older
    than the window (NIST SP 800-63B-4: a resend must not reset the failed-attempt limit).
    """

    valid_for: timedelta = timedelta(minutes=10)
    max_attempts: int = 5
    resend_interval: timedelta = timedelta(seconds=60)
    max_sends_per_hour: int = 5
    max_failures: int = 10
    failure_window: timedelta = timedelta(hours=24)

    @property
    def valid_minutes(self) -> int:
        """``valid_for`` in whole minutes, for the mail text."""
        return int(self.valid_for.total_seconds() // 60)


@dataclass(frozen=True)
class HashedCode:
    """What is stored of a code: a random salt and the scrypt digest, both hex."""

    salt: str
    digest: str


def normalise_address(address: str) -> str:
    """Trimmed, lower-cased, zero-width characters removed; raises InvalidAddress for anything that is not
    ``local@domain.tld`` and for an address starting with a spreadsheet formula prefix (``=``, ``+``, ...)."""
    cleaned = without_zero_width(address).strip().strip("<>").strip().lower()
    if formula_prefixed(cleaned):
        raise InvalidAddress("starts with a formula prefix")
    if not _ADDRESS.match(cleaned) or len(cleaned) > 320:
        raise InvalidAddress("not an email address")
    return cleaned


def generate_code() -> str:
    """Six random digits from ``secrets`` (leading zeros kept)."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def _digest(code: str, salt: bytes) -> bytes:
    return hashlib.scrypt(code.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32)


def hash_code(code: str) -> HashedCode:
    """Hash ``code`` with a fresh 16-byte salt (scrypt; CPU-heavy, call it in a thread)."""
    salt = secrets.token_bytes(16)
    return HashedCode(salt.hex(), _digest(code, salt).hex())


def code_matches(typed: str, stored: HashedCode) -> bool:
    """True when ``typed`` (spaces and dashes ignored) is the code; compared in constant time."""
    candidate = re.sub(r"[\s-]", "", typed)
    if not candidate.isascii() or not candidate.isdigit() or len(candidate) != CODE_DIGITS:
        candidate = "x"  # still hashed, so a malformed guess costs the same time
    return hmac.compare_digest(_digest(candidate, bytes.fromhex(stored.salt)), bytes.fromhex(stored.digest))


def resend_wait_seconds(sent: list[datetime], now: datetime, policy: CodePolicy) -> int:
    """Seconds until another code may go out, given earlier send times (oldest first); 0 means now."""
    wait = timedelta(0)
    if sent:
        wait = max(wait, sent[-1] + policy.resend_interval - now)
    recent = [at for at in sent if at > now - timedelta(hours=1)]
    if len(recent) >= policy.max_sends_per_hour:
        wait = max(wait, recent[-policy.max_sends_per_hour] + timedelta(hours=1) - now)
    return max(0, math.ceil(wait.total_seconds()))


def cooling_off_seconds(failures: list[tuple[datetime, int]], now: datetime, policy: CodePolicy) -> int:
    """Seconds of cooling-off left, given (sent time, wrong tries) of each code, oldest first; 0 means none.

    The cooling-off lasts until enough of the failures have left the window to bring them below the cap.
    """
    recent = [(at, count) for at, count in failures if at > now - policy.failure_window]
    total = sum(count for _, count in recent)
    for at, count in recent:
        if total < policy.max_failures:
            break
        total -= count
        if total < policy.max_failures:
            return max(1, math.ceil((at + policy.failure_window - now).total_seconds()))
    return 0
