"""Does the From address prove anything? Read the receiving server's ``Authentication-Results`` (RFC 8601).

Only headers whose authserv-id is our own receiving server's (``Settings.imap_authserv_id``) are trusted:
anyone can write an Authentication-Results header into a mail, and our server is expected to remove
foreign copies carrying its id. The From address counts as proven when DMARC passed for its domain, or when
a DKIM signature passed whose domain (``header.d``, or the domain of ``header.i``) equals the From domain.
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
        """True when the From address may be taken as verified."""
        return self is not AuthVerdict.NONE


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


def verify_sender(message: EmailMessage, sender: str, authserv_id: str | None) -> AuthVerdict:
    """Whether our server's Authentication-Results prove ``sender``'s domain (see the module docstring)."""
    if not authserv_id:
        return AuthVerdict.NONE
    domain = sender.rpartition("@")[2].lower()
    if not domain:
        return AuthVerdict.NONE
    verdict = AuthVerdict.NONE
    for header in message.get_all("Authentication-Results") or []:
        server, results = parse_authentication_results(str(header))
        if server.lower() != authserv_id.lower():
            continue
        for result in results:
            if result.result != "pass":
                continue
            if result.method == "dmarc" and result.properties.get("header.from", domain).lower() == domain:
                return AuthVerdict.DMARC
            if result.method == "dkim" and _dkim_domain(result) == domain:
                verdict = AuthVerdict.DKIM
    return verdict


def _dkim_domain(result: MethodResult) -> str:
    """The signing domain of a DKIM result: ``header.d``, else the domain part of ``header.i``."""
    if "header.d" in result.properties:
        return result.properties["header.d"].lower()
    return result.properties.get("header.i", "").rpartition("@")[2].lower()
