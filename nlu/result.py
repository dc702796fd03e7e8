"""The parse result both engines return, so nothing past `nlu/` knows which engine ran."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from nlu.intents import EntityName, Intent


@dataclass(frozen=True)
class IntentScore:
    """One intent with the engine's confidence in it."""

    intent: Intent
    confidence: float


@dataclass(frozen=True)
class Entity:
    """A value found in the text, with its character span."""

    name: EntityName
    value: str
    start: int
    end: int


@dataclass(frozen=True)
class ParseResult:
    """What an engine understood of one message."""

    text: str
    intent: IntentScore
    ranking: tuple[IntentScore, ...]
    entities: tuple[Entity, ...] = ()

    def entity(self, name: EntityName) -> str | None:
        """The first value of entity ``name``, or None."""
        return next((e.value for e in self.entities if e.name is name), None)

    def as_rasa_json(self) -> dict[str, Any]:
        """The result in the shape of Rasa's `/model/parse` answer."""
        return {
            "text": self.text,
            "intent": {"name": self.intent.intent.value, "confidence": self.intent.confidence},
            "intent_ranking": [{"name": s.intent.value, "confidence": s.confidence} for s in self.ranking],
            "entities": [
                {"entity": e.name.value, "value": e.value, "start": e.start, "end": e.end}
                for e in self.entities
            ],
        }


class EngineUnavailable(Exception):
    """An engine could not classify a message (its server is down, say); another engine may."""


class NluEngine(Protocol):
    """An engine that classifies a message."""

    name: str

    async def parse(self, text: str) -> ParseResult:
        """Understand one message."""
        ...
