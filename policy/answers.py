"""Decide which passage answers a question, or that the policy does not answer it.

Two paths, one answer. The lexical path (BM25 within the sections of the topic the NLU is sure of) answers
what it matches plainly, in microseconds. The semantic path fuses, per section, the cosine of the
question's embedding with the passages', the lexical score and the topic classifier's probabilities, and
decides the rest: which section speaks to the question, which passage of it to quote (the list when the
question asks for one), and whether the policy names the exact thing asked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from policy.bridge import english_gloss
from policy.document import Passage, PassageKind
from policy.search import PassageMatch, PolicyIndex
from policy.semantic import SemanticIndex
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

# The fast path: a topic this sure and a passage of its sections matching this much of the question.
FAST_TOPIC = 0.8
FAST_COVERAGE = 0.85
# ... in a section fitting the topic at least this well by meaning (best = 1).
FAST_SECTION_FIT = 0.7
# Fusion weights of the semantic path, per passage: cosine + lexical (BM25 relative to the best, weighed
# by coverage; and again by coverage squared, for passages naming most of the question) + the topic's fit.
# Tuned on half of a set of real questions, checked on the other half.
LEXICAL_WEIGHT = 0.05
SPECIFIC_WEIGHT = 0.2
TOPIC_WEIGHT = 2.5
# A passage this much closer to the question than any passage of another section gets this bonus.
STANDOUT_LEAD = 0.03
STANDOUT_BONUS = 2.0
# A section's fit to a topic: exp(gap to the best section / this). Small: the topic's own sections.
TOPIC_TEMPERATURE = 0.02
# Below this probability of all policy-question intents together, and with no passage certainly about
# it, nothing in the policy is about the question.
MIN_TOPIC_MASS = 0.5
# A passage at least this close (or sharing half of the question's words) names the thing asked;
# below, the policy speaks only to its topic.
SPECIFIC_SIMILARITY = 0.85
# At least this close, a passage answers even a message the NLU did not take for a policy question.
CERTAIN_SIMILARITY = 0.84
# Words the policy never uses, at least this share of the question: the passage cannot name the thing asked.
UNKNOWN_SHARE_NAMED = 0.3
# ... and they are named in the reply only up to this share (beyond, the question is in other words).
NAMED_SHARE = 0.6
# At least this share of the question's weight unknown: the question is in another language, and a
# passage this close (cosines across languages run lower) names the thing asked.
FOREIGN_SHARE = 0.9
FOREIGN_SPECIFIC_SIMILARITY = 0.8
# A single bullet beats its whole list only when it is this much closer to the question.
ITEM_OVER_LIST = 0.02
# A list of another section answers a question asking for a list when it is at most this much farther.
LIST_SLACK = 0.05

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# Words that ask for a list of things rather than one fact.
_LIST_WORDS = frozenset("who whom which what list kinds types categories".split())


def asks_for_list(question: str) -> bool:
    """True when the question asks for a list of things ("who", "which", "what kinds") more than one fact."""
    return not _LIST_WORDS.isdisjoint(words(question))


@dataclass(frozen=True)
class PolicyAnswer:
    """A quotable answer: the passage text and the section it stands in. ``specific`` is False when the
    policy speaks to the topic but not to the exact thing asked; ``unmentioned`` are the question's words
    the policy never uses; ``certain`` that the semantic path is sure the passage is about the question,
    whatever the NLU said of it."""

    quote: str
    section: str
    section_path: str
    coverage: float
    is_contact: bool
    specific: bool = True
    unmentioned: tuple[str, ...] = ()
    certain: bool = False


@dataclass(frozen=True)
class NoAnswer:
    """Nothing in the policy is about the question; ``missing`` are its words the policy never uses."""

    missing: tuple[str, ...]


class PolicyAnswerer:
    """Finds answers in one policy, helped by per-intent term profiles from the NLU training data and,
    when given, the passages' embeddings."""

    def __init__(
        self,
        index: PolicyIndex,
        profiles: Mapping[str, Mapping[str, float]] | None = None,
        semantic: SemanticIndex | None = None,
        topic_vectors: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        self.index = index
        self.semantic = semantic
        self._priors = {name: index.section_prior(profile) for name, profile in (profiles or {}).items()}
        self._passages = index.passages
        self._sections = tuple(dict.fromkeys(p.section for p in self._passages))
        column = {s: n for n, s in enumerate(self._sections)}
        self._section_of = np.array([column[p.section] for p in self._passages], dtype=np.int64)
        self._topic_fit = self._fit_topics(topic_vectors or {}, semantic)
        title = index.document.title
        self._preamble = self._sections.index(title) if title in self._sections else -1

    def _fit_topics(
        self, topic_vectors: Mapping[str, np.ndarray], semantic: SemanticIndex | None
    ) -> dict[str, np.ndarray]:
        """How well each section fits each topic (best = 1), by meaning: the passage of the section
        closest to the topic's training questions, measured against that passage's closeness to all
        topics (a passage about personal data in general is near every topic, and fits none best), then
        sharpened so that the topic's own sections stand out. Computed from this policy's passages, so a
        changed policy changes the fits with no retraining."""
        if semantic is None or not topic_vectors:
            return {}
        names = list(topic_vectors)
        closeness = np.stack([semantic.vectors @ topic_vectors[name] for name in names])
        closeness -= closeness.mean(axis=0, keepdims=True)
        fits: dict[str, np.ndarray] = {}
        for name, row in zip(names, closeness, strict=True):
            closest = np.full(len(self._sections), -np.inf)
            np.maximum.at(closest, self._section_of, row)
            fit = np.exp((closest - closest.max()) / TOPIC_TEMPERATURE)
            fits[name] = fit / fit.max()
        return fits

    @cached_property
    def has_email_address(self) -> bool:
        """True when the policy states a real contact email address itself (the policy never changes)."""
        return any(_EMAIL.search(p.text) for p in self.index.document.passages)

    def answer(
        self, question: str, *, topic: str | None = None, topics: Mapping[str, float] | None = None
    ) -> PolicyAnswer | NoAnswer:
        """The best passage for ``question``. ``topic`` is an intent name the NLU is sure of; ``topics``
        the NLU's probabilities of the policy-question intents, for the semantic path."""
        if self.semantic is None:
            return self.lexical_answer(question, topic=topic)
        topics = dict(topics or ({topic: 1.0} if topic else {}))
        best_topic = max(topics.items(), key=lambda item: item[1], default=None)
        sure = best_topic[0] if best_topic is not None and best_topic[1] >= FAST_TOPIC else None
        # The fast path: a passage of the sure topic's sections matching most of the question's own
        # words answers without an encoder call.
        for fast_topic in (sure,) if sure else ():
            match = self._lexical_match(question, fast_topic)
            if (
                isinstance(match, PassageMatch)
                and self._fits_topic(match.passage.section, fast_topic)
                and match.coverage >= FAST_COVERAGE
                and not (asks_for_list(question) and match.passage.kind is PassageKind.PARAGRAPH)
            ):
                return self._quote(match.passage, match.coverage)
        return self._semantic_answer(question, topics, self.semantic)

    def _fits_topic(self, section: str, topic: str) -> bool:
        """True when ``section`` is one of ``topic``'s own sections: by meaning when the passages are
        embedded (sharper), else by the topic's term profile."""
        fit = self._topic_fit.get(topic)
        if fit is not None:
            return float(fit[self._sections.index(section)]) >= FAST_SECTION_FIT
        return (self._priors.get(topic) or {}).get(section, 0.0) >= TOPIC_SECTION_FIT

    def lexical_answer(self, question: str, *, topic: str | None = None) -> PolicyAnswer | NoAnswer:
        """The lexical path alone: BM25, narrowed to the sections that fit ``topic``."""
        lexical_question = self._lexical_question(question, self._unknown_words(question)[1])
        match = self._lexical_match(lexical_question, topic)
        return match if isinstance(match, NoAnswer) else self._quote(match.passage, match.coverage)

    def _lexical_match(self, question: str, topic: str | None) -> PassageMatch | NoAnswer:
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
                return in_topic[0]
        best = matches[0]
        if best.coverage < (MIN_COVERAGE_WITH_PRIOR if prior else MIN_COVERAGE):
            return NoAnswer(missing=self._missing_words(question, best))
        return best

    def _semantic_answer(
        self, question: str, topics: Mapping[str, float], semantic: SemanticIndex
    ) -> PolicyAnswer | NoAnswer:
        sims = semantic.similarities(question)
        unknown, unknown_share = self._unknown_words(question)
        relative, coverage = self.index.lexical_scores(self._lexical_question(question, unknown_share))
        lexical = np.asarray(relative) * (0.4 + 0.6 * np.asarray(coverage))
        n_sections = len(self._sections)
        scores = (
            sims
            + LEXICAL_WEIGHT * lexical
            + SPECIFIC_WEIGHT * np.asarray(relative) * np.asarray(coverage) ** 2
        )
        # The preamble before the first heading introduces the policy; it answers only when nothing else can.
        preamble = self._section_of == self._preamble
        if not preamble.all():
            scores = np.where(preamble, -np.inf, scores)
            sims = np.where(preamble, -1.0, sims)
        closest = int(sims.argmax())
        elsewhere = sims[self._section_of != self._section_of[closest]]
        if len(elsewhere) and sims[closest] - elsewhere.max() >= STANDOUT_LEAD:
            # A passage clearly closer than any of another section names the thing asked, whatever the
            # topic says (a table row with its retention period, in the collection section).
            scores[closest] += STANDOUT_BONUS
        by_section = np.full(n_sections, -np.inf)
        np.maximum.at(by_section, self._section_of, scores)
        prior = np.zeros(n_sections)
        for name, probability in topics.items():
            if name in self._topic_fit:
                prior += probability * self._topic_fit[name]
        fused = by_section + TOPIC_WEIGHT * prior
        if float(sims.max()) < CERTAIN_SIMILARITY and sum(topics.values()) < MIN_TOPIC_MASS:
            # The classifier hardly takes it for a policy question, and no passage is close to it.
            return NoAnswer(missing=unknown)
        section = self._sections[int(fused.argmax())]
        chosen = self._choose_passage(question, section, scores)
        position = self._passages.index(chosen)
        close = float(sims[position]) >= SPECIFIC_SIMILARITY or coverage[position] >= MIN_COVERAGE
        # Nearly every word unknown: another language, where only the meaning can tell.
        foreign = unknown_share >= FOREIGN_SHARE
        if foreign:
            specific = float(sims[position]) >= FOREIGN_SPECIFIC_SIMILARITY
        else:
            specific = close and unknown_share < UNKNOWN_SHARE_NAMED
        return replace(
            self._quote(chosen, coverage[position]),
            specific=specific,
            # Naming the missing words helps only when they are the few odd ones out (in another
            # language, every word is one the policy never uses).
            unmentioned=unknown if not specific and unknown_share <= NAMED_SHARE else (),
            certain=float(sims.max()) >= CERTAIN_SIMILARITY,
        )

    def _choose_passage(self, question: str, section: str, scores: np.ndarray) -> Passage:
        """The passage of ``section`` closest to the question, or its list when the question asks one."""
        rows = [n for n, p in enumerate(self._passages) if p.section == section]
        best = max(rows, key=lambda n: scores[n])
        return self._list_if_asked(question, self._passages[best], scores)

    def _list_if_asked(self, question: str, passage: Passage, scores: np.ndarray) -> Passage:
        """``passage``, or a whole list when the question asks for one ("who", "which") and no single item
        stands out: its section's list, else a list nearly as close to the question as the passage."""
        if passage.kind not in (PassageKind.PARAGRAPH, PassageKind.BULLET) or not asks_for_list(question):
            return passage
        rows = [n for n, p in enumerate(self._passages) if p.kind is PassageKind.LIST]
        here = self._passages.index(passage)
        own = [n for n in rows if self._passages[n].section == passage.section]
        # An introduction without a list of its own gives way to a close list of the next sections.
        near = own or [
            n
            for n in rows
            if passage.kind is PassageKind.PARAGRAPH and scores[n] >= scores[here] - LIST_SLACK
        ]
        if not near:
            return passage
        whole = max(near, key=lambda n: scores[n])
        if passage.kind is PassageKind.BULLET and scores[here] - scores[whole] > ITEM_OVER_LIST:
            return passage
        return self._passages[whole]

    def _lexical_question(self, question: str, unknown_share: float) -> str:
        """What the lexical search reads: the question, or for a question in another language (nearly all
        its words unknown: ``unknown_share`` from ``_unknown_words``) the English gloss of the words the
        bridge knows, when it knows some."""
        if unknown_share < FOREIGN_SHARE:
            return question
        return english_gloss(question) or question

    def _unknown_words(self, question: str) -> tuple[tuple[str, ...], float]:
        """The question's content words that the policy never uses (nor any word meaning about the same),
        and their share of the question's weight (0 to 1)."""
        query = self.index.query_terms(question)
        absent = {t for t in query if not self.index.is_known(t)}
        total = sum(self.index.idf(t) for t in query) or 1.0
        share = sum(self.index.idf(t) for t in absent) / total
        shown = [w for w in words(question) if w not in STOP_WORDS and stem(w) in absent and w.isalpha()]
        return tuple(dict.fromkeys(shown)), share

    def _missing_words(self, question: str, match: PassageMatch) -> tuple[str, ...]:
        absent = {t for t in match.unmatched_terms if not self.index.is_known(t)}
        shown = [w for w in words(question) if w not in STOP_WORDS and stem(w) in absent]
        return tuple(dict.fromkeys(shown))

    def _quote(self, passage: Passage, coverage: float) -> PolicyAnswer:
        is_contact = passage.kind is PassageKind.FIELD
        if is_contact:
            passage = self.index.field_block(passage.section) or passage
        return PolicyAnswer(
            quote=passage.text,
            section=passage.section,
            section_path=passage.section_path,
            coverage=coverage,
            is_contact=is_contact,
        )
