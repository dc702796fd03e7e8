"""The retention periods the policy promises, read from its "Retention Periods" list at run time.

Each bullet is ``Category: <how long>``. A fixed period ("Retained for 2 years", "Kept for 5 years") is
read as days; a period that depends on something else ("while your account remains active …", "until you
opt out") has none, and nothing is purged by time for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from policy.document import PassageKind, PolicyDocument

RETENTION_SECTION = "retention periods"
# What the assistant keeps of a person: its transcripts, codes and tickets are support communications.
SUPPORT_COMMUNICATIONS = "support communications"

_BULLET = re.compile(r"^\s*(?P<category>[^:]{2,80}):\s*(?P<rule>.+)$")
_FIXED = re.compile(
    r"^\s*(?:retained|kept|maintained|stored|held)\s+for\s+(?P<n>\d+)\s+(?P<unit>day|week|month|year)s?\b",
    re.I,
)
_DAYS = {"day": 1, "week": 7, "month": 30, "year": 365}


class RetentionNotStated(LookupError):
    """The policy has no fixed retention period for this category."""

    def __init__(self, category: str) -> None:
        super().__init__(f"the policy states no fixed retention period for {category!r}")
        self.category = category


@dataclass(frozen=True)
class RetentionPeriod:
    """One bullet: the category (lower-cased), its days (None when not fixed) and the policy's words."""

    category: str
    days: int | None
    wording: str


def retention_periods(document: PolicyDocument) -> dict[str, RetentionPeriod]:
    """Every category of the "Retention Periods" list, keyed by its lower-cased name."""
    found: dict[str, RetentionPeriod] = {}
    for passage in document.passages:
        if passage.kind is not PassageKind.BULLET or passage.section.strip().lower() != RETENTION_SECTION:
            continue
        bullet = _BULLET.match(passage.text)
        if bullet is None:
            continue
        category = bullet.group("category").strip().lower()
        fixed = _FIXED.match(bullet.group("rule"))
        days = int(fixed.group("n")) * _DAYS[fixed.group("unit").lower()] if fixed else None
        found[category] = RetentionPeriod(category, days, passage.text.strip())
    return found


def period_days(document: PolicyDocument, category: str) -> int:
    """The fixed period of ``category`` in days. Raises RetentionNotStated."""
    period = retention_periods(document).get(category.lower())
    if period is None or period.days is None:
        raise RetentionNotStated(category)
    return period.days
