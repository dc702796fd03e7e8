"""The name a policy uses for the organisation it speaks for ("how ZynorLink collects ...")."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from policy.document import PolicyDocument, load_policy

BUNDLED_POLICY = Path(__file__).resolve().parent / "zynorlink-privacy-policy.txt"

# The policy names itself as the subject of its first "<Name> collects / uses / ..." sentence.
_SELF_NAME = re.compile(
    r"\b([A-Z][A-Za-z0-9&.-]*(?: [A-Z][A-Za-z0-9&.-]*)*)"
    r" (?:collects|uses|processes|handles|protects|shares)\b"
)
_NOT_NAMES = frozenset({"This Policy", "Policy", "It", "This", "That", "We", "Which"})


def organisation_name(document: PolicyDocument) -> str | None:
    """The name in the policy's first "<Name> collects (uses, processes, ...)" sentence, or None."""
    for passage in document.passages:
        for name in _SELF_NAME.findall(passage.text):
            if name not in _NOT_NAMES:
                return str(name)
    return None


@cache
def bundled_organisation() -> str:
    """The organisation the project's own policy copy names (what the templates say without a setting)."""
    return organisation_name(load_policy(BUNDLED_POLICY)) or "the organisation"
