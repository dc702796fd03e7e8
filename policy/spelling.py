"""Typo repair for questions: a word the policy never uses is replaced by a policy word one edit away
("paymnt" → "payment", "recieve" → "receive")."""

from __future__ import annotations

from collections.abc import Iterable

_MIN_LENGTH = 4


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


class Speller:
    """Corrects words to a known vocabulary by single-deletion neighbourhoods (SymSpell, distance 1)."""

    def __init__(self, vocabulary: Iterable[str]) -> None:
        self.words = frozenset(w for w in vocabulary if w.isalpha())
        self._index: dict[str, set[str]] = {}
        for word in self.words:
            if len(word) >= _MIN_LENGTH:
                for key in _deletes(word) | {word}:
                    self._index.setdefault(key, set()).add(word)

    def correct(self, word: str) -> str:
        """``word`` itself when known or too short to guess; else the closest known word, if any."""
        if word in self.words or len(word) < _MIN_LENGTH or not word.isalpha():
            return word
        candidates: set[str] = set()
        for key in _deletes(word) | {word}:
            candidates |= self._index.get(key, set())
        candidates = {c for c in candidates if abs(len(c) - len(word)) <= 1}
        if not candidates:
            return word
        # Prefer a candidate sharing the first letter, then the longest common prefix: typos rarely
        # start a word.
        return max(sorted(candidates), key=lambda c: (c[0] == word[0], _common_prefix(c, word)))


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n
