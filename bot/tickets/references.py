"""Ticket references people can read out: ``PRV-7K3Q-9M2D``, unguessable (``secrets``), no 0/O/1/I/L/U."""

from __future__ import annotations

import re
import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
PREFIX = "PRV"
GROUPS, GROUP_LENGTH = 2, 4
_FOUND = re.compile(r"\bPRV[\s-]?([0-9A-Z]{4})[\s-]?([0-9A-Z]{4})\b", re.IGNORECASE)


def new_reference() -> str:
    """A fresh random reference: 30**8 (about 6.6e11) possibilities."""
    groups = ("".join(secrets.choice(ALPHABET) for _ in range(GROUP_LENGTH)) for _ in range(GROUPS))
    return "-".join((PREFIX, *groups))


def is_reference(text: str) -> bool:
    """True when ``text`` is exactly a well-formed reference."""
    return parse_reference(text) == text


def parse_reference(text: str) -> str | None:
    """The canonical reference written somewhere in ``text`` (any case, dashes or spaces), or None."""
    match = _FOUND.search(text)
    if match is None:
        return None
    body = (match.group(1) + match.group(2)).upper()
    if any(char not in ALPHABET for char in body):
        return None
    return f"{PREFIX}-{body[:4]}-{body[4:]}"


def canonical_reference(reference: str) -> str:
    """The canonical form of a reference typed by a person (unparseable text is kept, to be not found)."""
    return parse_reference(reference) or reference.strip().upper()
