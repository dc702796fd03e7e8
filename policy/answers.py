"""Decide which passages answer a question, and how much of it the policy covers.

With the passages embedded, the learned relevance model (:mod:`policy.relevance`) scores every passage and
says whether the policy covers the question fully, partly or not at all; the answer quotes the passages it
is confident of, lists whole when one answers. Without embeddings (``PRIVACYBOT_SEMANTIC=false``) the lexical
path alone answers: BM25 within the sections of the topic the NLU is sure of.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from policy.bank import Coverage
from policy.document import Passage, PassageKind
from policy.relevance import (
    PairFeatures,
    RelevanceModel,
    asks_for_list,
    candidates_only,
    question_features,
    unknown_share,
)
from policy.search import PassageMatch, PolicyIndex
from policy.semantic import SemanticIndex
from policy.text import STOP_WORDS, stem, words

# The lexical path. Below this share of the question's weight, the best passage does not speak to it.
MIN_COVERAGE = 0.5
# A prior alone must not answer: the passage must match some of the question's own words.
MIN_COVERAGE_WITH_PRIOR = 0.34
# Sections fitting the recognised topic at least this well (best = 1) are searched first.
TOPIC_SECTION_FIT = 0.5
# Within the topic's sections a passage must still share this much of the question's words.
MIN_COVERAGE_IN_TOPIC = 0.2
# When this share of the question's weight is words the policy never uses, the lexical path finds
# nothing ("cookies").
MAX_UNKNOWN_SHARE = 0.45

# The learned path: the coverage model's probability of "fully covered" at which the answer says so;
# below it, "none" from this probability on, else "partly". Chosen on half of an answer key of real
# questions (the other half checks them); the probabilities themselves are calibrated on the bank.
FULL_AT = 0.7
NONE_AT = 0.4
# At most this many passages are quoted, each at least this share of the best one's probability. A full
# answer may quote more: the answering passage is then among them more often. A partial one quotes fewer,
# only what helps beside "not exactly" ...
MOST_QUOTED = {Coverage.FULL: 8, Coverage.PARTIAL: 5}
SHARE_OF_BEST = {Coverage.FULL: 0.05, Coverage.PARTIAL: 0.1}
# ... and at most this many lines of policy text in all (a list counts its items).
MOST_LINES = 10

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


@dataclass(frozen=True)
class QuotedPassage:
    """One passage an answer quotes: its text and the section (``Parent › Section``) it stands in."""

    text: str
    section: str
    section_path: str
    is_contact: bool = False


@dataclass(frozen=True)
class PolicyAnswer:
    """The passages that answer a question, best first, and how much of the question the policy covers
    (``FULL`` or ``PARTIAL``: a partial answer quotes what the policy does say on the topic)."""

    passages: tuple[QuotedPassage, ...]
    coverage: Coverage = Coverage.FULL

    @property
    def quote(self) -> str:
        """The best passage's text."""
        return self.passages[0].text

    @property
    def section(self) -> str:
        """The best passage's section."""
        return self.passages[0].section

    @property
    def section_path(self) -> str:
        """The best passage's section path."""
        return self.passages[0].section_path

    @property
    def is_contact(self) -> bool:
        """True when the answer is the policy's contact block."""
        return self.passages[0].is_contact


@dataclass(frozen=True)
class NoAnswer:
    """Nothing in the policy answers the question (coverage ``none``); ``missing`` are its words the
    policy never uses, when the lexical path found that."""

    missing: tuple[str, ...]


class PolicyAnswerer:
    """Finds answers in one policy: by the learned relevance model when the passages are embedded, else
    lexically, helped by per-intent term profiles from the NLU training data."""

    def __init__(
        self,
        index: PolicyIndex,
        profiles: Mapping[str, Mapping[str, float]] | None = None,
        semantic: SemanticIndex | None = None,
        relevance: RelevanceModel | None = None,
    ) -> None:
        if (semantic is None) != (relevance is None):
            raise ValueError("the relevance model needs the passages' embeddings, and they need it")
        self.index = index
        self.semantic = semantic
        self.relevance = relevance
        self._priors = {name: index.section_prior(profile) for name, profile in (profiles or {}).items()}
        self._passages = index.passages
        self._pairs = PairFeatures(index, semantic) if semantic is not None else None
        # Each section's list, where it has one.
        self._list_in = {p.section: n for n, p in enumerate(self._passages) if p.kind is PassageKind.LIST}

    @cached_property
    def has_email_address(self) -> bool:
        """True when the policy states a real contact email address itself (the policy never changes)."""
        return any(_EMAIL.search(p.text) for p in self.index.document.passages)

    def answer(
        self, question: str, *, topic: str | None = None, in_policy_language: bool = True
    ) -> PolicyAnswer | NoAnswer:
        """The passages that answer ``question``, or :class:`NoAnswer`. ``topic`` is an intent name the NLU
        is sure of (it steers the lexical path); ``in_policy_language`` is False for a question in another
        language than the policy's, whose words say nothing of what the policy names."""
        if self.semantic is None or self.relevance is None or self._pairs is None:
            return self.lexical_answer(question, topic=topic)
        vector = self.semantic.encoder.query(question)
        pairs = self._pairs(question, vector)
        probability = candidates_only(self.relevance.pairs.probability(pairs), pairs)
        unknown = unknown_share(self.index, question)
        features = question_features(probability, pairs, unknown, in_policy_language)
        full, _, none = self.relevance.coverage.probabilities(features[None, :])[0]
        if full >= FULL_AT:
            coverage = Coverage.FULL
        elif none >= NONE_AT:
            return NoAnswer(missing=())
        else:
            coverage = Coverage.PARTIAL
        return PolicyAnswer(self._chosen(question, probability, coverage), coverage)

    def _chosen(
        self, question: str, probability: np.ndarray, coverage: Coverage
    ) -> tuple[QuotedPassage, ...]:
        """The passages to quote: the likeliest, those nearly as likely, a list rather than its own items,
        within a budget of lines, grouped by section (the likeliest section first, the likeliest passage
        first within each)."""
        ranked = [int(n) for n in np.argsort(-probability)[: MOST_QUOTED[coverage]]]
        best = probability[ranked[0]]
        chosen = [n for n in ranked if probability[n] >= SHARE_OF_BEST[coverage] * best]
        if asks_for_list(question):
            # "Which", "what kinds": a paragraph or item of a section with a list gives way to the list.
            chosen = [self._list_in.get(self._passages[n].section, n) for n in chosen]
            chosen = list(dict.fromkeys(chosen))
        kept: list[int] = []
        for n in chosen:
            text = self._passages[n].text
            if any(text in self._passages[k].text for k in kept):
                continue  # already quoted inside a list or paragraph
            # A passage that holds kept ones (a list holds its items) takes their place, if it fits.
            rest = [k for k in kept if self._passages[k].text not in text]
            lines = sum(self._passages[k].text.count("\n") + 1 for k in rest) + text.count("\n") + 1
            if kept and lines > MOST_LINES:
                continue
            kept = [*rest, n]
        sections = list(dict.fromkeys(self._passages[n].section for n in kept))
        kept.sort(key=lambda n: (sections.index(self._passages[n].section), chosen.index(n)))
        # The contact lines all quote their one block.
        return tuple(dict.fromkeys(self._quoted(self._passages[n]) for n in kept))

    def lexical_answer(self, question: str, *, topic: str | None = None) -> PolicyAnswer | NoAnswer:
        """The lexical path alone: BM25, narrowed to the sections that fit ``topic``."""
        match = self._lexical_match(question, topic)
        if isinstance(match, NoAnswer):
            return match
        passage = self._list_if_asked(question, match.passage)
        return PolicyAnswer((self._quoted(passage),))

    def _lexical_match(self, question: str, topic: str | None) -> PassageMatch | NoAnswer:
        prior = self._priors.get(topic) if topic else None
        matches = self.index.search(question, limit=3, prior=prior)
        if not matches:
            return NoAnswer(missing=())
        if unknown_share(self.index, question) >= MAX_UNKNOWN_SHARE:
            return NoAnswer(missing=self._missing_words(question, matches[0]))
        if prior:
            fitting = frozenset(s for s, fit in prior.items() if fit >= TOPIC_SECTION_FIT)
            in_topic = self.index.search(question, limit=1, prior=prior, sections=fitting)
            # The topic's own sections win unless another section answers clearly more of the question.
            if in_topic and in_topic[0].coverage >= max(MIN_COVERAGE_IN_TOPIC, matches[0].coverage - 0.1):
                return in_topic[0]
        best = matches[0]
        if best.coverage < (MIN_COVERAGE_WITH_PRIOR if prior else MIN_COVERAGE):
            return NoAnswer(missing=self._missing_words(question, best))
        return best

    def _list_if_asked(self, question: str, passage: Passage) -> Passage:
        """A paragraph's own list, when the question asks for a list ("who", "which")."""
        if passage.kind is not PassageKind.PARAGRAPH or not asks_for_list(question):
            return passage
        lists = [p for p in self._passages if p.kind is PassageKind.LIST and p.section == passage.section]
        return lists[0] if lists else passage

    def _missing_words(self, question: str, match: PassageMatch) -> tuple[str, ...]:
        absent = {t for t in match.unmatched_terms if not self.index.is_known(t)}
        shown = [w for w in words(question) if w not in STOP_WORDS and stem(w) in absent]
        return tuple(dict.fromkeys(shown))

    def _quoted(self, passage: Passage) -> QuotedPassage:
        is_contact = passage.kind is PassageKind.FIELD
        if is_contact:
            passage = self.index.field_block(passage.section) or passage
        return QuotedPassage(passage.text, passage.section, passage.section_path, is_contact)
