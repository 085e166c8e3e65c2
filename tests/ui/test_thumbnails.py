"""The thumbnail cache serves the rows on screen first: newest requests first, stale ones dropped.

A real cache on real image files; one load is held open so that the order of
the others is decided while it runs (no timing).
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PIL import Image

from desktop_app.ui import thumbnails as thumbnails_module
from desktop_app.ui.thumbnails import ThumbnailCache


@pytest.fixture
def images(tmp_path: Path) -> list[str]:
    paths = []
    for i in range(8):
        path = tmp_path / f"row_{i}.png"
        Image.new("RGB", (120, 90), (30 * i, 100, 200)).save(path)
        paths.append(str(path))
    return paths


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> tuple[threading.Event, list[str]]:
    """Loads are recorded in order; the first one waits for the returned event."""
    release, order = threading.Event(), []
    real = thumbnails_module.read_qimage

    def recording(path, side):  # type: ignore[no-untyped-def]
        if not order:
            release.wait(10)
        order.append(Path(path).name)
        return real(path, side)

    monkeypatch.setattr(thumbnails_module, "read_qimage", recording)
    return release, order


def _ask(cache: ThumbnailCache, paths: list[str]) -> None:
    for path in paths:
        assert cache.get(path) is None


def test_newest_requests_load_first(qtbot, images: list[str], held) -> None:  # noqa: ANN001
    release, order = held
    cache = ThumbnailCache(queued=16)
    _ask(cache, images[:1])  # row_0 starts loading and is held
    qtbot.waitUntil(lambda: images[0] in cache._loading, timeout=5000)
    _ask(cache, images[1:6])  # these wait, in the order the rows were painted
    assert cache.get(images[1]) is None  # painted again: newest again
    with qtbot.waitSignals([cache.ready] * 6, timeout=10_000):
        release.set()
    assert order == ["row_0.png", "row_1.png", "row_5.png", "row_4.png", "row_3.png", "row_2.png"]
    assert all(cache.get(path) is not None for path in images[:6])
    assert cache._pending == set()


def test_stale_requests_are_dropped_and_asked_again(qtbot, images: list[str], held) -> None:  # noqa: ANN001
    release, order = held
    cache = ThumbnailCache(queued=3)
    _ask(cache, images[:1])
    qtbot.waitUntil(lambda: images[0] in cache._loading, timeout=5000)
    _ask(cache, images[1:7])  # scrolled past rows 1-3; rows 4-6 are on screen
    assert cache._pending == {images[0], *images[4:7]}
    with qtbot.waitSignals([cache.ready] * 4, timeout=10_000):
        release.set()
    assert order == ["row_0.png", "row_6.png", "row_5.png", "row_4.png"]
    assert cache.get(images[2]) is None  # dropped, so not cached: scrolling back asks again
    qtbot.waitUntil(lambda: cache.get(images[2]) is not None, timeout=5000)
    assert order[-1] == "row_2.png" and "row_1.png" not in order


def test_clear_drops_queued_requests(qtbot, images: list[str], held) -> None:  # noqa: ANN001
    release, order = held
    cache = ThumbnailCache()
    _ask(cache, images[:1])
    qtbot.waitUntil(lambda: images[0] in cache._loading, timeout=5000)
    _ask(cache, images[1:3])
    cache.clear()
    with qtbot.waitSignal(cache.ready, timeout=10_000):
        release.set()
    assert cache.wait(5000)
    assert order == ["row_0.png"]  # the load already running finished; the queued ones were dropped
