"""A bounded memo: what a pure computation gave for the last keys asked, so a repeat costs a lookup.

Used where the same input always gives the same value for the life of the process (the parse of a text by
one model, the answer of one policy to a question, a label's rendering): nothing in it ever goes stale.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Memo(Generic[K, V]):
    """The values of the ``size`` keys used last (the least recently used is dropped first)."""

    def __init__(self, size: int) -> None:
        """Keep at most ``size`` values."""
        self._size = size
        self._values: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        """The value remembered for ``key``, or None."""
        value = self._values.get(key)
        if value is not None:
            self._values.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> V:
        """Remember ``value`` for ``key``; returns it."""
        self._values[key] = value
        self._values.move_to_end(key)
        if len(self._values) > self._size:
            self._values.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._values)
