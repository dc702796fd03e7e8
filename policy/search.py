"""Find the passage of the policy that answers a question.

BM25 over passages (stemmed, with synonyms), a little weight for words of the section heading, and an
optional prior per section learned from the training questions of the intent the NLU recognised.
``coverage`` tells how much of the question the passage speaks to: the caller uses it to decide that
the policy does not answer the question at all.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from policy.document import Passage, PassageKind, PolicyDocument
from policy.spelling import Speller
from policy.text import STOP_WORDS, lexicon_words, stem, synonyms, terms, words

_K1 = 1.2
_B = 0.5
_HEADING_WEIGHT = 0.35
_SYNONYM_WEIGHT = 0.5
_PRIOR_WEIGHT = 0.8
# Whole blocks are found through their single lines; they are answered only when asked for.
_SEARCHED_KINDS = frozenset(PassageKind) - {PassageKind.FIELD_BLOCK}
# Questions whose terms and scores are remembered (the index is read-only: they never go stale).
_CACHED_QUESTIONS = 256
# English prefixes that make a word's opposite: the policy speaking of one speaks of the other.
_NEGATING_PREFIXES = ("dis", "un", "in", "non", "im")
# One passage's raw score, coverage, unmatched query terms and position among the searched passages.
_Scored = tuple[float, float, tuple[str, ...], int]


@dataclass(frozen=True)
class PassageMatch:
    """A passage with how well it answers the question."""

    passage: Passage
    score: float
    coverage: float
    unmatched_terms: tuple[str, ...]


def _scored_text(passage: Passage) -> str:
    """What a passage is matched on. A list is matched on its introduction only (and its heading), so it
    answers broad questions while a question naming one item finds that item."""
    if passage.kind is PassageKind.LIST:
        return " ".join(line for line in passage.text.splitlines() if not line.startswith("- "))
    return passage.text


class PolicyIndex:
    """Search index over one parsed policy. Build once per policy file; searching is read-only."""

    def __init__(self, document: PolicyDocument) -> None:
        self.document = document
        self._passages = [p for p in document.passages if p.kind in _SEARCHED_KINDS]
        self._text_tf = [Counter(terms(_scored_text(p))) for p in self._passages]
        # A heading, and for a ``Key: value`` line the lines beside it, give context the text lacks.
        self._heading_terms = [frozenset(terms(self._context_of(p))) for p in self._passages]
        self._lengths = [sum(tf.values()) for tf in self._text_tf]
        self._avg_length = (sum(self._lengths) / len(self._lengths)) if self._lengths else 1.0
        df: Counter[str] = Counter()
        for tf, heading in zip(self._text_tf, self._heading_terms, strict=True):
            df.update(set(tf) | heading)
        n = len(self._passages)
        self._idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
        self._unseen_idf = math.log(1 + (n + 0.5) / 0.5)
        self.vocabulary = frozenset(df)
        self._speller = Speller(
            {w for p in document.passages for w in words(f"{p.text} {p.section}")} | lexicon_words()
        )
        self._section_tf: dict[str, Counter[str]] = {}
        for p, tf in zip(self._passages, self._text_tf, strict=True):
            self._section_tf.setdefault(p.section, Counter()).update(tf)
        # Per passage, computed once rather than per question: its length norm and every term it speaks
        # to (text or heading).
        self._norms = [_K1 * (1 - _B + _B * length / self._avg_length) for length in self._lengths]
        self._known_terms = [
            frozenset(tf) | heading for tf, heading in zip(self._text_tf, self._heading_terms, strict=True)
        ]
        # One answer searches the same question more than once (globally, then within a topic).
        self._query_terms = lru_cache(maxsize=_CACHED_QUESTIONS)(self._compute_query_terms)
        self._scored = lru_cache(maxsize=_CACHED_QUESTIONS)(self._score_all)

    @property
    def passages(self) -> tuple[Passage, ...]:
        """The searched passages, in the order of :meth:`lexical_scores`."""
        return tuple(self._passages)

    def lexical_scores(self, question: str) -> tuple[list[float], list[float]]:
        """Per searched passage: its BM25 score relative to the best (0..1), and its coverage."""
        raw, best = self._scored(question)
        if best <= 0:
            return [0.0] * len(self._passages), [0.0] * len(self._passages)
        return [r[0] / best for r in raw], [r[1] for r in raw]

    def _context_of(self, passage: Passage) -> str:
        context = f"{passage.section} {passage.parent_section or ''}"
        if passage.kind is PassageKind.FIELD:
            block = self.field_block(passage.section)
            context += f" {block.text}" if block else ""
        return context

    def query_terms(self, question: str) -> list[str]:
        """The question's stemmed content words, typos repaired against the policy's own words."""
        return list(self._query_terms(question))

    def _compute_query_terms(self, question: str) -> tuple[str, ...]:
        return tuple(
            dict.fromkeys(stem(self._speller.correct(w)) for w in words(question) if w not in STOP_WORDS)
        )

    def is_known(self, term: str) -> bool:
        """True when the policy uses ``term``, its opposite ("agree" when it says "disagree"), or a word
        meaning about the same."""
        return (
            term in self.vocabulary
            or any(s in self.vocabulary for s in synonyms(term))
            or any(f"{prefix}{term}" in self.vocabulary for prefix in _NEGATING_PREFIXES)
        )

    def idf(self, term: str) -> float:
        """How rare ``term`` is in the policy; unseen words weigh the most."""
        return self._idf.get(term, self._unseen_idf)

    def section_prior(self, profile: Mapping[str, float]) -> dict[str, float]:
        """Cosine similarity of each section to a weighted term profile, scaled so the best is 1."""
        if not profile:
            return {}
        p_norm = math.sqrt(sum(w * w for w in profile.values())) or 1.0
        sims: dict[str, float] = {}
        for section, tf in self._section_tf.items():
            vec = {t: c * self.idf(t) for t, c in tf.items()}
            norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
            sims[section] = sum(w * vec.get(t, 0.0) for t, w in profile.items()) / (norm * p_norm)
        best = max(sims.values(), default=0.0)
        return {s: v / best for s, v in sims.items()} if best > 0 else {}

    def search(
        self,
        question: str,
        *,
        limit: int = 3,
        prior: Mapping[str, float] | None = None,
        sections: frozenset[str] | None = None,
    ) -> list[PassageMatch]:
        """The best passages for ``question`` (only in ``sections``, if given), best first; empty when
        no word of it is in the policy."""
        raw, best_score = self._scored(question)
        if best_score <= 0:
            return []
        results: list[PassageMatch] = []
        for score, coverage, unmatched, i in raw:
            passage = self._passages[i]
            if sections is not None and passage.section not in sections:
                continue
            # Rank by strength and by how much of the question the passage speaks to.
            final = score / best_score * (0.4 + 0.6 * coverage)
            if prior:
                # The recognised topic scales each section by how well it fits that topic.
                final *= 1 - _PRIOR_WEIGHT + _PRIOR_WEIGHT * prior.get(passage.section, 0.0)
            if score > 0:
                results.append(PassageMatch(passage, final, coverage, unmatched))
        # On a tie a whole list beats its own introduction: it says more.
        results.sort(
            key=lambda m: (-round(m.score, 6), m.passage.kind is not PassageKind.LIST, m.passage.index)
        )
        return results[:limit]

    def _score_all(self, question: str) -> tuple[tuple[_Scored, ...], float]:
        """Each searched passage's score, coverage and unmatched terms for ``question``, and the best score
        (0 when no word of the question is in the policy). Independent of any prior or section filter."""
        query = self._query_terms(question)
        if not query:
            return (), 0.0
        expanded: dict[str, float] = {t: 1.0 for t in query}
        for t in query:
            for s in synonyms(t):
                expanded.setdefault(s, _SYNONYM_WEIGHT)
        idf = {t: self.idf(t) for t in expanded}
        weighted = [(t, w * idf[t]) for t, w in expanded.items()]  # in order: sums add up as term by term
        query_synonyms = {t: synonyms(t) for t in query}
        total = sum(idf[t] for t in query)
        raw: list[_Scored] = []
        for i, (tf, heading, known) in enumerate(
            zip(self._text_tf, self._heading_terms, self._known_terms, strict=True)
        ):
            norm = self._norms[i]
            score = 0.0
            for t, weight in weighted:
                f = tf.get(t, 0)
                if f:
                    score += weight * f * (_K1 + 1) / (f + norm)
                elif t in heading:
                    score += weight * _HEADING_WEIGHT
            unmatched = tuple(t for t in query if t not in known)
            # A word matched only through a synonym counts half: the policy says something close.
            partial = [t for t in unmatched if not known.isdisjoint(query_synonyms[t])]
            unmatched = tuple(t for t in unmatched if t not in partial)
            covered = total - sum(idf[t] for t in unmatched) - 0.5 * sum(idf[t] for t in partial)
            raw.append((score, covered / total if total else 0.0, unmatched, i))
        return tuple(raw), max((r[0] for r in raw), default=0.0)

    def field_block(self, section: str) -> Passage | None:
        """The block of ``Key: value`` lines in ``section``, if it has one."""
        return next(
            (p for p in self.document.passages if p.kind is PassageKind.FIELD_BLOCK and p.section == section),
            None,
        )
