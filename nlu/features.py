"""Turn a message into sparse TF-IDF features: stemmed words, word pairs, and character n-grams
(which survive typos such as "delet my acount").

Words are stemmed in the message's language: Russian (Cyrillic) words with the Russian stemmer, Latin words
of an Azerbaijani message with the Turkish one (close enough for Azerbaijani suffixes once ə/ı are folded),
others with the English one. Azerbaijani letters fold to plain Latin, so "məlumatlarımı" and "melumatlarimi"
give the same features."""

from __future__ import annotations

import itertools
import math
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import snowballstemmer

from nlu.language import Language, detect
from policy.text import stem, words

_CHAR_NGRAMS = (3, 4)
_MAX_CHARS = 2000


_FOLD = str.maketrans({"ə": "e", "Ə": "e", "ı": "i"})


def normalise(text: str) -> str:
    """Lower-case, accents folded (ə → e, ı → i too), length bounded: what the classifier reads."""
    text = unicodedata.normalize("NFKD", text[:_MAX_CHARS].translate(_FOLD))
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


@lru_cache(maxsize=2)
def _snowball(name: str) -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer(name)


@lru_cache(maxsize=65536)
def _foreign_stem(word: str, stemmer: str) -> str:
    return str(_snowball(stemmer).stemWord(word))


def stem_in(word: str, lang: Language | None) -> str:
    """The stem of one normalised word of a message in ``lang``."""
    if not word.isascii() and any("\u0400" <= c <= "\u04ff" for c in word):
        return _foreign_stem(word, "russian")
    if lang is Language.AZ:
        return _foreign_stem(word, "turkish")
    return stem(word)


def raw_features(text: str) -> Counter[str]:
    """Feature counts of one (already masked) message."""
    guess = detect(text)
    lang = guess.language if guess else None
    tokens = words(normalise(text))
    feats: Counter[str] = Counter()
    stems = [stem_in(t, lang) for t in tokens]
    feats.update(f"w:{s}" for s in stems)
    feats.update(f"b:{a}_{b}" for a, b in itertools.pairwise(stems))
    for token in tokens:
        padded = f" {token} "
        for n in _CHAR_NGRAMS:
            if len(padded) >= n:
                feats.update(f"c:{padded[i : i + n]}" for i in range(len(padded) - n + 1))
    return feats


@dataclass
class Vectoriser:
    """A fitted vocabulary with inverse document frequencies."""

    vocabulary: dict[str, int]
    idf: np.ndarray

    @classmethod
    def fit(cls, texts: Iterable[Counter[str]]) -> Vectoriser:
        """Learn the vocabulary of the training messages."""
        counts = list(texts)
        df: Counter[str] = Counter()
        for feats in counts:
            df.update(feats.keys())
        vocabulary = {f: i for i, f in enumerate(sorted(df))}
        n = len(counts)
        idf = np.array([math.log((1 + n) / (1 + df[f])) + 1.0 for f in sorted(df)], dtype=np.float32)
        return cls(vocabulary, idf)

    def transform_one(self, feats: Counter[str]) -> tuple[np.ndarray, np.ndarray]:
        """Indices and L2-normalised TF-IDF weights of the known features."""
        pairs = [(self.vocabulary[f], c) for f, c in feats.items() if f in self.vocabulary]
        if not pairs:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        idx = np.fromiter((p[0] for p in pairs), dtype=np.int64, count=len(pairs))
        tf = np.fromiter((1.0 + math.log(p[1]) for p in pairs), dtype=np.float32, count=len(pairs))
        weights = tf * self.idf[idx]
        weights /= np.linalg.norm(weights) or 1.0
        return idx, weights
