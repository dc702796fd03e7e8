"""Does the From address prove anything? Read the receiving server's ``Authentication-Results`` (RFC 8601).

Anyone can write an Authentication-Results header into a mail, even one carrying our server's authserv-id.
RFC 8601 §5: only the headers our own receiving server PREPENDED can be trusted, and those are the topmost
ones. So only the first ``trusted_headers`` headers (``Settings.imap_trusted_auth_headers``, default 1) are
read, and only those with our authserv-id (``Settings.imap_authserv_id``); anything below them is the
sender's. The From address counts as proven only when DMARC passed with ``header.from`` aligned with (equal
to) the From domain. An aligned DKIM pass alone is noted (``dkim``) but proves nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import EmailMessage
from enum import StrEnum

_COMMENT = re.compile(r"\([^()]*\)")
_RESULT = re.compile(r"^\s*([a-z0-9][a-z0-9_.-]*)\s*=\s*([a-z0-9_-]+)", re.I)
_PROPERTY = re.compile(r"\b([a-z0-9_-]+)\.([a-z0-9_-]+)\s*=\s*(\"[^\"]*\"|[^\s;]+)", re.I)


class AuthVerdict(StrEnum):
    """How far the sender's address is proven."""

    DMARC = "dmarc"
    DKIM = "dkim"
    NONE = "none"

    @property
    def proves_address(self) -> bool:
        """True when the From address may be taken as verified: only an aligned DMARC pass."""
        return self is AuthVerdict.DMARC


@dataclass(frozen=True)
class MethodResult:
    """One ``method=result`` with its properties (``header.d``, ``header.from`` …, keys lower-cased)."""

    method: str
    result: str
    properties: dict[str, str]


def parse_authentication_results(value: str) -> tuple[str, tuple[MethodResult, ...]]:
    """The authserv-id and the method results of one Authentication-Results header value."""
    text = value
    while _COMMENT.search(text):
        text = _COMMENT.sub(" ", text)
    head, *resinfos = text.split(";")
    authserv_id = head.strip().split()[0] if head.strip() else ""
    results: list[MethodResult] = []
    for resinfo in resinfos:
        found = _RESULT.match(resinfo)
        if found is None:
            continue
        properties = {
            f"{m.group(1).lower()}.{m.group(2).lower()}": m.group(3).strip('"')
            for m in _PROPERTY.finditer(resinfo[found.end() :])
        }
        results.append(MethodResult(found.group(1).lower(), found.group(2).lower(), properties))
    return authserv_id, tuple(results)


def verify_sender(
    message: EmailMessage, sender: str, authserv_id: str | None, *, trusted_headers: int = 1
) -> AuthVerdict:
    """Whether the topmost ``trusted_headers`` Authentication-Results of our server prove ``sender``'s domain
    (see the module docstring)."""
    if not authserv_id or trusted_headers < 1:
        return AuthVerdict.NONE
    domain = sender.rpartition("@")[2].lower()
    if not domain:
        return AuthVerdict.NONE
    verdict = AuthVerdict.NONE
    topmost = (message.get_all("Authentication-Results") or [])[:trusted_headers]
    for header in topmost:
        server, results = parse_authentication_results(str(header))
        if server.lower() != authserv_id.lower():
            continue
        for result in results:
            if result.result != "pass":
                continue
            if result.method == "dmarc" and result.properties.get("header.from", "").lower() == domain:
                return AuthVerdict.DMARC
            if result.method == "dkim" and _dkim_domain(result) == domain:
                verdict = AuthVerdict.DKIM
    return verdict


def _dkim_domain(result: MethodResult) -> str:
    """The signing domain of a DKIM result: ``header.d``, else the domain part of ``header.i``."""
    if "header.d" in result.properties:
        return result.properties["header.d"].lower()
    return result.properties.get("header.i", "").rpartition("@")[2].lower()
