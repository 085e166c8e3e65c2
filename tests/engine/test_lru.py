from __future__ import annotations

from desktop_app.engine.lru import LruCache


def test_keeps_the_most_recently_used_and_makes_each_key_once() -> None:
    made: list[str] = []
    cache: LruCache[str, str] = LruCache(2)

    def get(key: str) -> str | None:
        return cache.get(key, lambda: made.append(key) or key.upper())

    assert get("a") == "A" and get("b") == "B" and get("a") == "A"
    assert get("c") == "C"  # "b" is the least recently used: dropped
    assert get("a") == "A" and get("b") == "B"
    assert made == ["a", "b", "c", "b"]


def test_nothing_is_kept_when_make_gives_none() -> None:
    calls = []
    cache: LruCache[str, object] = LruCache(2)
    assert cache.get("x", lambda: calls.append(1)) is None
    assert cache.get("x", lambda: calls.append(1)) is None
    assert len(calls) == 2
    cache.get("y", lambda: "value")
    cache.clear()
    assert cache.get("y", lambda: None) is None
