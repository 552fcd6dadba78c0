"""The one in-memory cache policy of the engine: bounded, least-recently-used, thread-safe, built once per key.

Everything the engine derives or compiles per scheme *structure* — the derived :class:`~kinetics.odesystem.OdeSystem`,
the lambdified numpy functions, loaded native solvers (plain and with sensitivities) — is kept in an
:class:`LRUCache`. A value is built at most once per key and process, even when several threads ask for it at the
same time (the others wait for the first builder); a failed build is not cached.

The on-disk cache of compiled libraries is :mod:`kinetics.native`'s; a model's library is found there by its
code identity (:meth:`kinetics.model.CompiledModel.code_identity`) before anything is derived.

Examples
--------
>>> c = LRUCache("squares", maxsize=2)
>>> c.get_or_build(3, lambda: 9)
9
>>> c.get_or_build(3, lambda: 0)       # cached: the builder is not called
9
>>> len(c)
1
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable, Hashable

__all__ = ["LRUCache", "clear_all"]

_ALL: "list[LRUCache]" = []


class LRUCache:
    """A bounded mapping ``key -> value`` evicting the least recently used entry.

    Parameters
    ----------
    name : str
        What it holds (for :func:`describe`).
    maxsize : int
        Entries kept; the oldest is dropped beyond it.
    """

    def __init__(self, name: str, maxsize: int = 64):
        if int(maxsize) < 1:
            raise ValueError("maxsize must be >= 1")
        self.name = name
        self.maxsize = int(maxsize)
        self._data: "OrderedDict[Hashable, object]" = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict = {}
        _ALL.append(self)

    def get(self, key, default=None):
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
        return default

    def get_or_build(self, key: Hashable, build: Callable[[], object]):
        """The cached value of ``key``, built by ``build()`` on a miss (once, even across threads)."""
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
            lock = self._building.get(key)
            if lock is None:
                lock = self._building[key] = threading.Lock()
        with lock:
            with self._lock:
                if key in self._data:          # built by another thread while we waited
                    self._data.move_to_end(key)
                    return self._data[key]
            try:
                value = build()
            finally:
                with self._lock:
                    self._building.pop(key, None)
            with self._lock:
                self._data[key] = value
                self._data.move_to_end(key)
                while len(self._data) > self.maxsize:
                    self._data.popitem(last=False)
            return value

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)

    def __contains__(self, key) -> bool:
        with self._lock:
            return key in self._data

    def __repr__(self) -> str:
        return f"<LRUCache {self.name}: {len(self)}/{self.maxsize}>"


def clear_all() -> None:
    """Empty every in-memory cache of the engine (the on-disk library cache is left alone)."""
    for c in _ALL:
        c.clear()
