"""A small thread-safe least-recently-used cache for things that hold a model session.

``get_classifier`` and ``second_opinion_for`` keep their sessions here: switching
back to a model is instant, and only the last few sessions stay in memory.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LruCache(Generic[K, V]):
    """Up to ``size`` values by key; the least recently used goes first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K, make: Callable[[], V | None]) -> V | None:
        """The value of ``key``, made by ``make()`` (under the lock: one session per key) if missing.

        A ``make()`` that returns None keeps nothing: the next call tries again.
        """
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            value = make()
            if value is not None:
                self._items[key] = value
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
            return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
