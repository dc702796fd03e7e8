"""The embedded engine: a multinomial logistic regression over TF-IDF features, trained in process
from the Rasa-format data in a few seconds and cached on disk keyed by the data's fingerprint."""

from __future__ import annotations

import asyncio
import logging
import math
import pickle
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nlu.engines.semantic import SemanticIntents, takes_part
from nlu.entities import RegexEntities
from nlu.features import Vectoriser, raw_features
from nlu.intents import EntityName, Intent
from nlu.result import IntentScore, ParseResult
from nlu.training_data import TrainingData, load_training_data
from policy.text import terms

log = logging.getLogger(__name__)

MODEL_VERSION = "1"
_L2 = 3e-5
_MAX_ITERATIONS = 300
_RANKING_SIZE = 10
# The word features alone decide when they are this sure; below, the semantic classifier is asked too.
SURE = 0.8
# The semantic classifier's share of the fused probabilities (tuned on half the dev set).
SEMANTIC_WEIGHT = 0.6

ProgressCallback = Callable[[int, int], None]


@dataclass
class EmbeddedModel:
    """Everything a parse needs: vocabulary, weights, entity patterns and per-intent term profiles."""

    intents: tuple[Intent, ...]
    vectoriser: Vectoriser
    weights: np.ndarray  # (features, intents)
    bias: np.ndarray  # (intents,)
    patterns: dict[EntityName, str]
    profiles: dict[Intent, dict[str, float]]
    fingerprint: str
    training_seconds: float = 0.0


def _intent_profiles(data: TrainingData) -> dict[Intent, dict[str, float]]:
    """For each intent, its words weighted by how specific they are to it among all intents."""
    grouped = data.by_intent()
    tfs = {intent: Counter(t for text in texts for t in terms(text)) for intent, texts in grouped.items()}
    spread: Counter[str] = Counter()
    for tf in tfs.values():
        spread.update(tf.keys())
    n = len(tfs)
    profiles: dict[Intent, dict[str, float]] = {}
    for intent, tf in tfs.items():
        total = sum(tf.values()) or 1
        profiles[intent] = {t: (c / total) * math.log(n / spread[t]) for t, c in tf.items() if spread[t] < n}
    return profiles


def train(
    data: TrainingData,
    *,
    progress: ProgressCallback | None = None,
    examples: Sequence[tuple[str, Intent]] | None = None,
) -> EmbeddedModel:
    """Fit the classifier on ``examples`` (default: all of ``data``)."""
    from scipy import sparse
    from scipy.optimize import minimize

    started = time.perf_counter()
    pairs = list(examples) if examples is not None else [(e.text, e.intent) for e in data.examples]
    entities = RegexEntities(data.regexes)
    intents = tuple(sorted({intent for _, intent in pairs}, key=lambda i: i.value))
    column = {intent: i for i, intent in enumerate(intents)}
    feats = [raw_features(entities.mask(text)) for text, _ in pairs]
    vectoriser = Vectoriser.fit(feats)
    rows, cols, vals = [], [], []
    for r, f in enumerate(feats):
        idx, w = vectoriser.transform_one(f)
        rows.extend([r] * len(idx))
        cols.extend(idx.tolist())
        vals.extend(w.tolist())
    n, d, k = len(pairs), len(vectoriser.vocabulary), len(intents)
    x = sparse.csr_matrix((vals, (rows, cols)), shape=(n, d), dtype=np.float64)
    xt = x.T.tocsr()
    y = np.zeros((n, k))
    y[np.arange(n), [column[i] for _, i in pairs]] = 1.0
    iteration = [0]

    def loss_and_grad(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w = theta[: d * k].reshape(d, k)
        b = theta[d * k :]
        z = x @ w + b
        z -= z.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        loss = -(y * log_p).sum() / n + 0.5 * _L2 * (w * w).sum()
        g = (np.exp(log_p) - y) / n
        grad_w = xt @ g + _L2 * w
        return loss, np.concatenate([grad_w.ravel(), g.sum(axis=0)])

    def on_iteration(_: np.ndarray) -> None:
        iteration[0] += 1
        if progress is not None:
            progress(iteration[0], _MAX_ITERATIONS)

    result = minimize(
        loss_and_grad,
        np.zeros(d * k + k),
        jac=True,
        method="L-BFGS-B",
        callback=on_iteration,
        options={"maxiter": _MAX_ITERATIONS},
    )
    if progress is not None:
        progress(_MAX_ITERATIONS, _MAX_ITERATIONS)
    theta = result.x
    return EmbeddedModel(
        intents=intents,
        vectoriser=vectoriser,
        weights=theta[: d * k].reshape(d, k).astype(np.float32),
        bias=theta[d * k :].astype(np.float32),
        patterns=dict(data.regexes),
        profiles=_intent_profiles(data),
        fingerprint=data.fingerprint,
        training_seconds=time.perf_counter() - started,
    )


def model_path(model_dir: Path, fingerprint: str) -> Path:
    """Where the model for data with ``fingerprint`` is cached."""
    return model_dir / f"embedded-v{MODEL_VERSION}-{fingerprint}.pkl"


def save_model(model: EmbeddedModel, model_dir: Path) -> Path:
    """Write the model atomically to the cache."""
    model_dir.mkdir(parents=True, exist_ok=True)
    path = model_path(model_dir, model.fingerprint)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
    tmp.replace(path)
    return path


def load_or_train(
    model_dir: Path, *, data_dir: Path | None = None, progress: ProgressCallback | None = None
) -> EmbeddedModel:
    """The cached model for the current data, training (and caching) it when the data changed."""
    data = load_training_data(data_dir) if data_dir else load_training_data()
    path = model_path(model_dir, data.fingerprint)
    if path.exists():
        try:
            # Our own cache file, written by save_model above; never a file from elsewhere.
            model = pickle.loads(path.read_bytes())
            if isinstance(model, EmbeddedModel):
                return model
        except (pickle.UnpicklingError, EOFError, AttributeError, ModuleNotFoundError):
            log.warning("cached NLU model %s unreadable; retraining", path.name)
    log.info("training the embedded NLU model (data %s)", data.fingerprint)
    model = train(data, progress=progress)
    save_model(model, model_dir)
    return model


class EmbeddedEngine:
    """Classifies messages in process with an :class:`EmbeddedModel`; when its word features are not
    sure, fuses in the nearest training questions by meaning (a cascade: the fast path costs no encoder
    call)."""

    name = "embedded"

    def __init__(self, model: EmbeddedModel, semantic: SemanticIntents | None = None) -> None:
        self.model = model
        self.semantic = semantic
        self._entities = RegexEntities(model.patterns)
        self._column = {intent: i for i, intent in enumerate(model.intents)}

    def word_probabilities(self, text: str) -> np.ndarray:
        """The word-feature classifier's probability of each of ``model.intents`` (tens of microseconds)."""
        idx, vals = self.model.vectoriser.transform_one(raw_features(self._entities.mask(text)))
        scores = self.model.bias.copy()
        if len(idx):
            scores += vals @ self.model.weights[idx]
        scores -= scores.max()
        probs = np.exp(scores)
        return probs / probs.sum()

    def needs_semantic(self, probs: np.ndarray) -> bool:
        """True when the word features are not sure and a semantic classifier can help."""
        return self.semantic is not None and float(probs.max()) < SURE

    def parse_sync(self, text: str) -> ParseResult:
        """Understand one message, synchronously (tens of microseconds on the fast path; one encoder call,
        tens of milliseconds, when the word features are not sure)."""
        probs = self.word_probabilities(text)
        if self.semantic is not None and self.needs_semantic(probs):
            probs = self._fuse(probs, self.semantic.scores(text)[0])
        return self._result(text, probs)

    async def parse(self, text: str) -> ParseResult:
        """Understand one message; an encoder call, when one is needed, runs in a worker thread."""
        probs = self.word_probabilities(text)
        if self.semantic is not None and self.needs_semantic(probs):
            votes, _ = await asyncio.to_thread(self.semantic.scores, text)
            probs = self._fuse(probs, votes)
        return self._result(text, probs)

    def _result(self, text: str, probs: np.ndarray) -> ParseResult:
        order = np.argsort(-probs)[:_RANKING_SIZE]
        ranking = tuple(IntentScore(self.model.intents[i], float(probs[i])) for i in order)
        return ParseResult(
            text=text, intent=ranking[0], ranking=ranking, entities=self._entities.extract(text)
        )

    def _fuse(self, probs: np.ndarray, votes: dict[Intent, float]) -> np.ndarray:
        """The neighbours re-divide, by meaning, the probability the word features give the intents they
        know (policy questions, out of scope); requests and small talk keep theirs."""
        if not votes:
            return probs
        known = np.zeros(len(probs), dtype=bool)
        neighbours = np.zeros_like(probs)
        for intent in self._column:
            known[self._column[intent]] = takes_part(intent)
        for intent, share in votes.items():
            if intent in self._column:
                neighbours[self._column[intent]] = share
        mass = probs[known].sum()
        fused = probs.copy()
        fused[known] = (1 - SEMANTIC_WEIGHT) * probs[known] + SEMANTIC_WEIGHT * mass * neighbours[known]
        return fused
