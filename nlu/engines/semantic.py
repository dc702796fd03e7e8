"""The topic classifier's semantic half: the training questions embedded by the sentence encoder, and a
message's intent read from its nearest training questions (k nearest neighbours, weighted by similarity).

It generalises where word features cannot (other words for the same thing, Azerbaijani and Russian, whole
rephrasings) and costs one encoder call per message, so the engine asks it only when the word features are
not sure. Only the intents it can tell apart by meaning take part: policy questions and out of scope.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from nlu.intents import Intent
from policy.encoder import SentenceEncoder, VectorCache

# Neighbours that vote, and how sharply a closer one outweighs a farther one (cosines of e5 are close).
_K = 7
_SHARPNESS = 20.0


def takes_part(intent: Intent) -> bool:
    """True for the intents the semantic classifier learns."""
    return intent.is_policy_question or intent is Intent.OUT_OF_SCOPE


class SemanticIntents:
    """k-nearest-neighbour intent scores over embedded training examples."""

    def __init__(
        self,
        examples: Sequence[tuple[str, Intent]],
        encoder: SentenceEncoder,
        *,
        cache_dir: Path | None = None,
    ) -> None:
        chosen = [(text, intent) for text, intent in examples if takes_part(intent)]
        self.encoder = encoder
        self.intents = tuple(sorted({i for _, i in chosen}, key=lambda i: i.value))
        column = {intent: n for n, intent in enumerate(self.intents)}
        self.labels = np.array([column[i] for _, i in chosen], dtype=np.int64)
        self.vectors = VectorCache(encoder, cache_dir, "query").embed([t for t, _ in chosen])

    def scores(self, text: str) -> tuple[dict[Intent, float], float]:
        """Each intent's share of the neighbours' votes, and the cosine of the nearest example."""
        if not len(self.labels):
            return {}, 0.0
        sims = self.vectors @ self.encoder.query(text)
        k = min(_K, len(sims))
        nearest = np.argpartition(-sims, k - 1)[:k]
        weights = np.exp(_SHARPNESS * (sims[nearest] - sims[nearest].max()))
        votes = np.zeros(len(self.intents))
        np.add.at(votes, self.labels[nearest], weights)
        votes /= votes.sum()
        return {self.intents[n]: float(v) for n, v in enumerate(votes) if v > 0}, float(sims[nearest].max())
