"""Entity extraction by the regexes declared in the training data, as Rasa's RegexEntityExtractor does."""

from __future__ import annotations

import re
from collections.abc import Mapping

from nlu.intents import EntityName
from nlu.result import Entity


class RegexEntities:
    """Finds emails, one-time codes and ticket references in a message."""

    def __init__(self, patterns: Mapping[EntityName, str]) -> None:
        self._patterns = {name: re.compile(p, re.IGNORECASE) for name, p in patterns.items()}

    def extract(self, text: str) -> tuple[Entity, ...]:
        """Every match, in text order; a span already taken by an earlier entity is not reused."""
        found: list[Entity] = []
        taken: list[tuple[int, int]] = []
        for name, pattern in self._patterns.items():
            for m in pattern.finditer(text):
                if any(m.start() < end and start < m.end() for start, end in taken):
                    continue
                value = m.group(0)
                if name is EntityName.TICKET_REF:
                    value = value.upper()
                elif name is EntityName.EMAIL:
                    value = value.strip(".")
                found.append(Entity(name, value, m.start(), m.end()))
                taken.append((m.start(), m.end()))
        return tuple(sorted(found, key=lambda e: e.start))

    def mask(self, text: str) -> str:
        """The text with each entity replaced by a placeholder word, for classification."""
        for name, pattern in self._patterns.items():
            text = pattern.sub(f" xx{name.value.replace('_', '')}xx ", text)
        return text
