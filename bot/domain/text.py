"""Text as it may be stored and addresses as they may be used: the characters no database keeps (NUL, a lone
surrogate) and the ones that hide in an address (zero-width) or turn it into a spreadsheet formula."""

from __future__ import annotations

import re

REPLACEMENT = "\ufffd"
# Invisible characters a copied address may carry; none belongs in one (RFC 5321 allows none of them).
ZERO_WIDTH = frozenset("\u00ad\u180e\u200b\u200c\u200d\u2060\ufeff")
# A cell starting with one of these is a formula to a spreadsheet (OWASP CSV injection); no address we
# mail a code to may start with one.
FORMULA_PREFIXES = frozenset("=+-@")
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")
_ADDRESS_TOKEN = re.compile(r"\S*@\S*")


def storable(text: str) -> str:
    """``text`` with NUL removed and each lone surrogate replaced by U+FFFD: what PostgreSQL and SQLite
    both store (a surrogate pair split in two code points is joined back into its character first)."""
    text = text.replace("\x00", "")
    if _LONE_SURROGATE.search(text) is None:
        return text
    joined = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return _LONE_SURROGATE.sub(REPLACEMENT, joined)


def without_zero_width(address: str) -> str:
    """``address`` with every zero-width character removed."""
    return "".join(ch for ch in address if ch not in ZERO_WIDTH)


def clean_addresses(text: str) -> str:
    """``text`` with zero-width characters removed from every word holding an ``@`` (elsewhere they may
    join an emoji or a word and stay), so that an address is read whole, not from its last visible part."""
    return _ADDRESS_TOKEN.sub(lambda m: without_zero_width(m.group(0)), text)


def formula_prefixed(address: str) -> bool:
    """True when ``address`` (as typed, brackets and quotes aside) starts with a formula prefix."""
    given = without_zero_width(address).strip().lstrip("<\"'(").lstrip()
    return bool(given) and given[0] in FORMULA_PREFIXES
