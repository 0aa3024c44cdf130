"""The in-process TTL cache every per-worker cache uses (clients, API keys, apps, key ring, tokens).

A read is one dict lookup and one clock call, with no lock: entries are immutable tuples, and a
dict read is atomic under the GIL. Writes take a lock. At ``maxsize`` the cache starts over
rather than evicting one by one: the next reads refill it, and memory stays bounded.
Each entry may carry its own deadline (``put(..., until=)``), e.g. a token's ``exp``.
"""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Callable, Hashable
from typing import Final, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Missing(enum.Enum):
    """What ``get`` answers for an absent or expired entry (a cached value may be None)."""

    MISSING = enum.auto()


MISSING: Final = Missing.MISSING


class TTLCache(Generic[K, V]):
    """``key -> value`` for ``ttl`` seconds of ``clock`` (monotonic unless told otherwise)."""

    __slots__ = ("ttl", "_maxsize", "_clock", "_entries", "_lock")

    def __init__(
        self, ttl: float, maxsize: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self._maxsize = maxsize
        self._clock = clock
        self._entries: dict[K, tuple[V, float]] = {}
        self._lock = threading.Lock()

    def get(self, key: K) -> V | Missing:
        entry = self._entries.get(key)
        if entry is not None and self._clock() < entry[1]:
            return entry[0]
        return MISSING

    def get_or_load(self, key: K, load: Callable[[K], V]) -> V:
        """The cached value, else ``load(key)``'s, cached (concurrent misses may each load).

        The entry's age counts from before the load, so it is never older than ``ttl``."""
        now = self._clock()
        entry = self._entries.get(key)
        if entry is not None and now < entry[1]:
            return entry[0]
        value = load(key)
        if self.ttl > 0:
            self.put(key, value, until=now + self.ttl)
        return value

    def put(self, key: K, value: V, until: float | None = None) -> None:
        """Cache ``value`` until ``until`` (a ``clock`` reading), else for ``ttl`` seconds."""
        if until is None:
            if self.ttl <= 0:
                return  # caching off: every read loads
            until = self._clock() + self.ttl
        with self._lock:
            if len(self._entries) >= self._maxsize:
                self._entries.clear()
            self._entries[key] = (value, until)

    def pop(self, key: K) -> None:
        """Forget ``key`` (a local change applies at once)."""
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
