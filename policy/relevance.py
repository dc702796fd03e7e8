"""Which passages answer a question, and how much of it the policy covers, by a model learned from the
question bank.

Every (question, passage) pair is described by features that say nothing of which policy it is: how close
the two are in meaning (the cosine, its gap to the best passage, its rank, the closeness dimension by
dimension), how many of the question's words the passage uses, what shape the passage is (a bullet, a whole
list, a table row, a contact line) and whether the question asks for a list. A logistic model over those
features gives each passage the probability that it answers the question. A second, small model reads the
question's best probabilities and the share of its words that the policy never uses, and gives the
probabilities that the policy covers it fully, partly or not at all; it is fitted on bank questions the
first model did not see (five folds, by bank entry), so its probabilities are calibrated.

Both are trained on the bank against the policy its anchors name, and serve any policy: swap the policy and
the same weights score its passages.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from policy.bank import BANK_DIR, BANK_POLICY, BankQuestion, Coverage, load_bank
from policy.document import Passage, PassageKind, load_policy
from policy.encoder import SentenceEncoder, VectorCache
from policy.search import PolicyIndex
from policy.semantic import SemanticIndex
from policy.text import words

log = logging.getLogger(__name__)

# Bump when the features change: a cached model of other features is retrained.
FEATURE_VERSION = 1
# L2 penalty of the two models (on standardised features).
PAIR_PENALTY = 10.0
COVERAGE_PENALTY = 1.0
# Folds by bank entry for the coverage model's held-out training data.
FOLDS = 3
# Per bank question the pair model learns from the passages that answer it and this many of the closest
# others (the far ones teach nothing the rank feature does not; leaving them out makes training fast).
CLOSEST_OTHERS = 30
# Shapes a passage can have, one feature each.
_KINDS = (
    PassageKind.PARAGRAPH,
    PassageKind.BULLET,
    PassageKind.TABLE_ROW,
    PassageKind.LIST,
    PassageKind.FIELD,
)
# Words asking for a list of things rather than one fact, in the three languages.
_LIST_WORDS = frozenset(
    "who whom which what list kinds types categories "
    "kim kimlər hansı hansılar nə nələr siyahı növ növləri "
    "кто кому какие какой какая каким что перечень список виды типы категории".split()
)
COVERAGES = (Coverage.FULL, Coverage.PARTIAL, Coverage.NONE)


def asks_for_list(question: str) -> bool:
    """True when the question asks for a list of things ("who", "which", "what kinds") more than one fact."""
    return not _LIST_WORDS.isdisjoint(words(question))


@dataclass(frozen=True)
class Logistic:
    """A fitted linear model on standardised features: binary (``weights`` a vector) or multinomial
    (``weights`` one column per class); the last row is the intercept."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray

    def _design(self, features: np.ndarray) -> np.ndarray:
        standard = (features - self.mean) / self.scale
        return np.column_stack([standard, np.ones(len(standard))])

    def probability(self, features: np.ndarray) -> np.ndarray:
        """Binary: the probability of the positive class, one per row."""
        return 1.0 / (1.0 + np.exp(-(self._design(features) @ self.weights)))

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """Multinomial: one row of class probabilities per row of features."""
        logits = self._design(features) @ self.weights
        logits -= logits.max(axis=1, keepdims=True)
        odds = np.exp(logits)
        return odds / odds.sum(axis=1, keepdims=True)


def fit_logistic(features: np.ndarray, labels: np.ndarray, *, classes: int = 2, penalty: float) -> Logistic:
    """Fit by L-BFGS: ``labels`` 0/1 for two classes, else class numbers below ``classes``."""
    mean = features.mean(axis=0)
    scale = features.std(axis=0) + 1e-9
    design = np.column_stack([(features - mean) / scale, np.ones(len(features))])
    width = design.shape[1]
    if classes == 2:
        target = labels.astype(np.float64)

        def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
            z = design @ w
            p = 1.0 / (1.0 + np.exp(-z))
            value = float(np.logaddexp(0.0, z).sum() - target @ z) + 0.5 * penalty * float(w[:-1] @ w[:-1])
            grad = design.T @ (p - target)
            grad[:-1] += penalty * w[:-1]
            return value, grad

        start = np.zeros(width)
    else:
        onehot = np.eye(classes)[labels]

        def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
            weights = w.reshape(width, classes)
            logits = design @ weights
            logits -= logits.max(axis=1, keepdims=True)
            log_norm = np.log(np.exp(logits).sum(axis=1, keepdims=True))
            value = -float((onehot * (logits - log_norm)).sum()) + 0.5 * penalty * float(
                (weights[:-1] ** 2).sum()
            )
            grad = design.T @ (np.exp(logits - log_norm) - onehot)
            grad[:-1] += penalty * weights[:-1]
            return value, grad.ravel()

        start = np.zeros(width * classes)
    result = minimize(loss, start, jac=True, method="L-BFGS-B", options={"maxiter": 500})
    weights = result.x if classes == 2 else result.x.reshape(width, classes)
    return Logistic(mean, scale, weights)


class PairFeatures:
    """The features of (question, passage) pairs for one policy: one row per searched passage."""

    def __init__(self, index: PolicyIndex, semantic: SemanticIndex) -> None:
        self.index = index
        self.vectors = semantic.vectors.astype(np.float64)
        passages = index.passages
        sections = list(dict.fromkeys(p.section for p in passages))
        self._section_of = np.array([sections.index(p.section) for p in passages])
        self._sections = len(sections)
        self._kinds = np.array([[p.kind is k for k in _KINDS] for p in passages], dtype=np.float64)
        self._is_list = self._kinds[:, _KINDS.index(PassageKind.LIST)]
        self._is_item = self._kinds[:, _KINDS.index(PassageKind.BULLET)]
        self._length = np.log1p([len(p.text.split()) for p in passages])
        # Each bullet's list, and each list's bullets (a list is compared with its best item).
        self._list_of = np.full(len(passages), -1)
        for n, whole in enumerate(passages):
            if whole.kind is PassageKind.LIST:
                for m, item in enumerate(passages):
                    if item.kind is PassageKind.BULLET and item.section == whole.section:
                        self._list_of[m] = n

    def __call__(self, question: str, vector: np.ndarray) -> np.ndarray:
        """The feature matrix of ``question`` (its embedding ``vector``) against every passage."""
        cosine = self.vectors @ vector.astype(np.float64)
        count = len(cosine)
        best = float(cosine.max())
        ranked = np.sort(cosine)[::-1]
        rank = np.empty(count)
        rank[np.argsort(-cosine)] = np.arange(count)
        section_best = np.full(self._sections, -1.0)
        np.maximum.at(section_best, self._section_of, cosine)
        relative, coverage = (np.asarray(v) for v in self.index.lexical_scores(question))
        # A bullet against its list, and a list against its best bullet.
        versus_list = np.zeros(count)
        items = self._list_of >= 0
        versus_list[items] = cosine[self._list_of[items]] - cosine[items]
        best_item = np.full(count, -1.0)
        np.maximum.at(best_item, self._list_of[items], cosine[items])
        lists = self._is_list > 0
        versus_list[lists] = best_item[lists] - cosine[lists]
        listing = float(asks_for_list(question))
        columns = [
            cosine,
            cosine - best,
            (cosine - cosine.mean()) / (cosine.std() + 1e-6),
            rank == 0,
            rank < 3,
            np.log1p(rank),
            section_best[self._section_of] - best,
            section_best[self._section_of] == section_best.max(),
            relative,
            coverage,
            relative * coverage,
            listing * self._is_list,
            listing * self._is_item,
            versus_list,
            self._length,
            np.full(count, best),
            np.full(count, best - ranked[1] if count > 1 else 0.0),
        ]
        return np.column_stack([*columns, self._kinds, self.vectors * vector])


def candidates_only(probabilities: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """``probabilities`` with every passage beyond the question's closest (the ones the model was trained
    on) set to 0."""
    return np.where(_ranks(pairs[:, 0]) < CLOSEST_OTHERS, probabilities, 0.0)


def _ranks(cosine: np.ndarray) -> np.ndarray:
    """Each passage's rank by closeness, 0 for the closest."""
    return np.argsort(np.argsort(-cosine))


def unknown_share(index: PolicyIndex, question: str) -> float:
    """The share of the question's weight (by rarity) that is words the policy never uses, 0 to 1."""
    terms = index.query_terms(question)
    total = sum(index.idf(t) for t in terms)
    if not total:
        return 0.0
    return sum(index.idf(t) for t in terms if not index.is_known(t)) / total


def question_features(
    probabilities: np.ndarray, pairs: np.ndarray, unknown: float, in_policy_language: bool
) -> np.ndarray:
    """What the coverage model reads of one question: its best passage probabilities, its closeness to
    the policy, and (in the policy's language, where it means something) the share of unknown words."""
    top = np.sort(probabilities)[::-1]
    cosine = np.sort(pairs[:, 0])[::-1]
    lexical = float(pairs[:, 9].max())
    same = float(in_policy_language)
    second = top[1] if len(top) > 1 else 0.0
    return np.array(
        [
            top[0],
            second,
            top[:3].sum(),
            np.log(top[0] + 1e-6),
            cosine[0],
            cosine[0] - (cosine[1] if len(cosine) > 1 else 0.0),
            lexical,
            probabilities.sum(),
            same,
            same * unknown,
            same * unknown**2,
            same * lexical,
        ]
    )


@dataclass(frozen=True)
class RelevanceModel:
    """The pair model and the coverage model, with the fingerprint of what trained them."""

    pairs: Logistic
    coverage: Logistic
    fingerprint: str

    def save(self, path: Path) -> None:
        """Write the weights atomically (numpy arrays only: loading runs no code)."""
        buffer = io.BytesIO()
        arrays = {f"pairs_{k}": getattr(self.pairs, k) for k in ("mean", "scale", "weights")}
        arrays |= {f"coverage_{k}": getattr(self.coverage, k) for k in ("mean", "scale", "weights")}
        np.savez(buffer, fingerprint=np.array(self.fingerprint), **arrays)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(buffer.getvalue())
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> RelevanceModel:
        """The model saved at ``path``."""
        with np.load(path, allow_pickle=False) as stored:

            def part(name: str) -> Logistic:
                return Logistic(*(stored[f"{name}_{k}"] for k in ("mean", "scale", "weights")))

            return cls(part("pairs"), part("coverage"), str(stored["fingerprint"]))


def bank_fingerprint(encoder: SentenceEncoder, bank_dir: Path = BANK_DIR, policy: Path = BANK_POLICY) -> str:
    """A hash of everything the model is trained from: the bank, its policy, the encoder, the features."""
    digest = hashlib.sha256(f"v{FEATURE_VERSION}:{encoder.model_id}".encode())
    for path in [policy, *sorted(bank_dir.glob("*.yml"))]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _labels(question: BankQuestion, passages: Sequence[Passage]) -> np.ndarray:
    return np.array([p.index in question.answers for p in passages], dtype=np.float64)


def train_relevance(
    encoder: SentenceEncoder, cache_dir: Path | None, *, bank_dir: Path = BANK_DIR
) -> RelevanceModel:
    """Fit both models on the bank (question vectors cached in ``cache_dir``)."""
    document = load_policy(BANK_POLICY)
    bank = load_bank(document, bank_dir)
    index = PolicyIndex(document)
    pairs = PairFeatures(index, SemanticIndex(index.passages, encoder, cache_dir=cache_dir))
    vectors = VectorCache(encoder, cache_dir, "query").embed([q.text for q in bank])
    features = [pairs(q.text, v) for q, v in zip(bank, vectors, strict=True)]
    labels = [_labels(q, index.passages) for q in bank]
    # The rows trained on: a question's answers and its closest other passages.
    kept = [
        np.flatnonzero((y > 0) | (_ranks(f[:, 0]) < CLOSEST_OTHERS))
        for f, y in zip(features, labels, strict=True)
    ]
    entries = sorted({q.source for q in bank})
    fold_of = {source: n % FOLDS for n, source in enumerate(entries)}
    folds = np.array([fold_of[q.source] for q in bank])

    def fit_rows(rows: Iterable[int]) -> Logistic:
        return fit_logistic(
            np.vstack([features[n][kept[n]] for n in rows]),
            np.concatenate([labels[n][kept[n]] for n in rows]),
            penalty=PAIR_PENALTY,
        )

    held_out: list[np.ndarray] = [np.empty(0)] * len(bank)
    for fold in range(FOLDS):
        model = fit_rows(np.flatnonzero(folds != fold))
        for n in np.flatnonzero(folds == fold):
            held_out[n] = candidates_only(model.probability(features[n]), features[n])
    question_rows = np.array(
        [
            question_features(held_out[n], features[n], unknown_share(index, q.text), q.lang == "en")
            for n, q in enumerate(bank)
        ]
    )
    classes = np.array([COVERAGES.index(q.coverage) for q in bank])
    coverage = fit_logistic(question_rows, classes, classes=len(COVERAGES), penalty=COVERAGE_PENALTY)
    final = fit_rows(range(len(bank)))
    return RelevanceModel(final, coverage, bank_fingerprint(encoder, bank_dir))


def load_or_train_relevance(
    model_dir: Path, encoder: SentenceEncoder, *, bank_dir: Path = BANK_DIR
) -> RelevanceModel:
    """The cached model for the current bank and encoder, training (and caching) it when either changed."""
    fingerprint = bank_fingerprint(encoder, bank_dir)
    path = model_dir / f"relevance-v{FEATURE_VERSION}-{fingerprint}.npz"
    if path.exists():
        try:
            return RelevanceModel.load(path)
        except (OSError, ValueError, KeyError):
            log.warning("cached relevance model %s unreadable; retraining", path.name)
    log.info("training the answer relevance model (bank %s)", fingerprint)
    model = train_relevance(encoder, model_dir, bank_dir=bank_dir)
    model.save(path)
    return model
