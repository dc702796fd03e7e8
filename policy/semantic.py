"""Semantic search over a policy's passages: each passage's embedding (cached on disk by a hash of its text
and the model, so a changed policy embeds only what changed) compared with the question's by cosine."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from policy.document import Passage
from policy.encoder import SentenceEncoder, VectorCache


def passage_text(passage: Passage) -> str:
    """What a passage is embedded as: its section path (the topic) and its words."""
    return f"{passage.section_path}: {passage.text}"


class SemanticIndex:
    """Passage vectors of one policy for one encoder, row by row in the order of ``passages``."""

    def __init__(
        self, passages: Sequence[Passage], encoder: SentenceEncoder, *, cache_dir: Path | None = None
    ) -> None:
        self.encoder = encoder
        self.passages = tuple(passages)
        self.vectors = VectorCache(encoder, cache_dir, "passage").embed([passage_text(p) for p in passages])

    def similarities(self, question: str) -> np.ndarray:
        """Cosine of the question with every passage, in the order of ``passages``."""
        return self.vectors @ self.encoder.query(question)
