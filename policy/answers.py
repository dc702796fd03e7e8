"""Decide which passage answers a question, or that the policy does not answer it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from policy.document import PassageKind
from policy.search import PassageMatch, PolicyIndex
from policy.text import STOP_WORDS, stem, words

# Below this share of the question's weight, the best passage does not speak to the question.
MIN_COVERAGE = 0.5
# A prior alone must not answer: the passage must match some of the question's own words.
MIN_COVERAGE_WITH_PRIOR = 0.34
# Sections fitting the recognised topic at least this well (best = 1) are searched first.
TOPIC_SECTION_FIT = 0.5
# Within the topic's sections a passage must still share this much of the question's words.
MIN_COVERAGE_IN_TOPIC = 0.2
# When this share of the question's weight is words the policy never uses (nor any synonym of them),
# the question is about something the policy does not mention ("cookies").
MAX_UNKNOWN_SHARE = 0.45
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


@dataclass(frozen=True)
class PolicyAnswer:
    """A quotable answer: the passage text and the section it stands in."""

    quote: str
    section: str
    section_path: str
    coverage: float
    is_contact: bool


@dataclass(frozen=True)
class NoAnswer:
    """The policy does not answer the question; ``missing`` are its words the policy never uses."""

    missing: tuple[str, ...]


class PolicyAnswerer:
    """Finds answers in one policy, helped by per-intent term profiles from the NLU training data."""

    def __init__(self, index: PolicyIndex, profiles: Mapping[str, Mapping[str, float]] | None = None) -> None:
        self.index = index
        self._priors = {name: index.section_prior(profile) for name, profile in (profiles or {}).items()}

    @cached_property
    def has_email_address(self) -> bool:
        """True when the policy states a real contact email address itself (the policy never changes)."""
        return any(_EMAIL.search(p.text) for p in self.index.document.passages)

    def answer(self, question: str, *, topic: str | None = None) -> PolicyAnswer | NoAnswer:
        """The best passage for ``question``. ``topic`` (an intent name the NLU is sure of) first narrows
        the search to the sections that fit the topic, then weighs the rest by that fit."""
        prior = self._priors.get(topic) if topic else None
        matches = self.index.search(question, limit=3, prior=prior)
        if not matches:
            return NoAnswer(missing=())
        query = self.index.query_terms(question)
        unknown = [t for t in query if not self.index.is_known(t)]
        total = sum(self.index.idf(t) for t in query) or 1.0
        if sum(self.index.idf(t) for t in unknown) / total >= MAX_UNKNOWN_SHARE:
            return NoAnswer(missing=self._missing_words(question, matches[0]))
        if prior:
            fitting = frozenset(s for s, fit in prior.items() if fit >= TOPIC_SECTION_FIT)
            in_topic = self.index.search(question, limit=1, prior=prior, sections=fitting)
            # The topic's own sections win unless another section answers clearly more of the question.
            if in_topic and in_topic[0].coverage >= max(MIN_COVERAGE_IN_TOPIC, matches[0].coverage - 0.1):
                return self._quote(in_topic[0])
        best = matches[0]
        if best.coverage < (MIN_COVERAGE_WITH_PRIOR if prior else MIN_COVERAGE):
            return NoAnswer(missing=self._missing_words(question, best))
        return self._quote(best)

    def _missing_words(self, question: str, match: PassageMatch) -> tuple[str, ...]:
        absent = {t for t in match.unmatched_terms if not self.index.is_known(t)}
        shown = [w for w in words(question) if w not in STOP_WORDS and stem(w) in absent]
        return tuple(dict.fromkeys(shown))

    def _quote(self, match: PassageMatch) -> PolicyAnswer:
        passage = match.passage
        is_contact = passage.kind is PassageKind.FIELD
        if is_contact:
            block = self.index.field_block(passage.section)
            passage = block or passage
        return PolicyAnswer(
            quote=passage.text,
            section=passage.section,
            section_path=passage.section_path,
            coverage=match.coverage,
            is_contact=is_contact,
        )
