"""The one in-process TTL cache: entries expire, may carry their own deadline, stay bounded."""

from __future__ import annotations

import threading

from identity.cache import MISSING, TTLCache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_an_entry_lives_ttl_seconds_then_is_missing() -> None:
    clock = Clock()
    cache: TTLCache[str, int] = TTLCache(2.0, 10, clock)
    cache.put("a", 1)
    clock.now += 1.9
    assert cache.get("a") == 1
    clock.now += 0.1
    assert cache.get("a") is MISSING


def test_none_is_a_cached_value_not_a_miss() -> None:
    """Negative answers (an unknown client) are cached as None, distinct from MISSING."""
    cache: TTLCache[str, int | None] = TTLCache(5.0, 10, Clock())
    cache.put("unknown", None)
    assert cache.get("unknown") is None


def test_get_or_load_loads_once_per_ttl_and_counts_age_from_before_the_load() -> None:
    clock = Clock()
    calls: list[str] = []

    def load(key: str) -> str:
        calls.append(key)
        clock.now += 0.5  # a slow read: the entry's age still starts before it
        return key.upper()

    cache: TTLCache[str, str] = TTLCache(2.0, 10, clock)
    assert cache.get_or_load("x", load) == "X"
    assert cache.get_or_load("x", load) == "X"
    assert calls == ["x"]
    clock.now += 1.5  # 2.0 s after the load began
    assert cache.get_or_load("x", load) == "X"
    assert calls == ["x", "x"]


def test_own_deadline_overrides_the_ttl() -> None:
    clock = Clock()
    cache: TTLCache[str, int] = TTLCache(0, 10, clock)
    cache.put("token", 1, until=clock.now + 30)
    clock.now += 29
    assert cache.get("token") == 1
    clock.now += 1
    assert cache.get("token") is MISSING


def test_ttl_zero_caches_nothing() -> None:
    cache: TTLCache[str, int] = TTLCache(0, 10, Clock())
    cache.put("a", 1)
    assert cache.get("a") is MISSING
    loads: list[str] = []
    cache.get_or_load("b", lambda key: loads.append(key) or 2)
    cache.get_or_load("b", lambda key: loads.append(key) or 2)
    assert loads == ["b", "b"]


def test_pop_and_clear_forget_at_once() -> None:
    cache: TTLCache[str, int] = TTLCache(60, 10, Clock())
    cache.put("a", 1)
    cache.put("b", 2)
    cache.pop("a")
    cache.pop("absent")
    assert cache.get("a") is MISSING and cache.get("b") == 2
    cache.clear()
    assert cache.get("b") is MISSING


def test_memory_is_bounded_by_starting_over() -> None:
    cache: TTLCache[int, int] = TTLCache(60, 3, Clock())
    for key in range(3):
        cache.put(key, key)
    cache.put(3, 3)  # full: the cache starts over with the new entry
    assert [cache.get(k) for k in range(4)] == [MISSING, MISSING, MISSING, 3]


def test_concurrent_writers_and_readers_never_see_a_torn_entry() -> None:
    cache: TTLCache[int, tuple[int, int]] = TTLCache(60, 50)
    errors: list[object] = []

    def work(offset: int) -> None:
        for i in range(2000):
            key = (i + offset) % 80
            cache.put(key, (key, key))
            got = cache.get(key)
            if got is not MISSING and got != (key, key):
                errors.append(got)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
