"""Small thumbnails for the results table, loaded in the background on demand.

Only rows the view paints ask for a thumbnail, and at most ``capacity`` are
kept (least recently used dropped), so a batch of 100,000 files does not hold
100,000 pixmaps. Requests are served newest first and only the ``queued``
newest are kept: after the scroll bar is dragged across thousands of rows,
the rows on screen (painted last) load first and the rows scrolled past are
dropped, not decoded. A row painted again asks again. Loading runs on a
private pool of ``threads`` threads (one by default) so that it never takes
more than that from the batch.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtGui import QGuiApplication, QImage, QPixmap

from desktop_app.ui.qt_images import read_qimage
from desktop_app.ui.signals import emit


class _Signals(QObject):
    loaded = Signal(str, QImage)


def _device_pixel_ratio() -> float:
    """The highest pixel ratio of the screens, so thumbnails stay sharp on high-DPI displays."""
    app = QGuiApplication.instance()
    screens = QGuiApplication.screens() if app is not None else []
    return max([s.devicePixelRatio() for s in screens] or [1.0])


class _Loader(QRunnable):
    """Loads the newest request, then the next newest, until none is left."""

    def __init__(self, cache: ThumbnailCache) -> None:
        super().__init__()
        self._cache = cache

    def run(self) -> None:
        while (path := self._cache._take()) is not None:
            emit(self._cache._signals.loaded, path, read_qimage(path, self._cache.pixel_side))


class ThumbnailCache(QObject):
    """``get(path)`` returns a QPixmap when loaded, else None and asks for it to be loaded."""

    ready = Signal(str)

    def __init__(
        self, side: int = 40, capacity: int = 600, queued: int = 64, threads: int = 1, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.side = side
        self._capacity, self._queued, self._threads = capacity, queued, threads
        self._ratio = _device_pixel_ratio()
        self.pixel_side = round(side * self._ratio)
        self._cache: OrderedDict[str, QPixmap | None] = OrderedDict()
        self._lock = threading.Lock()  # guards the three below (loader threads take from the queue)
        self._queue: OrderedDict[str, None] = OrderedDict()  # requests, newest last
        self._loading: set[str] = set()
        self._loaders = 0
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(threads)
        self._signals = _Signals(self)
        self._signals.loaded.connect(self._on_loaded)

    @property
    def _pending(self) -> set[str]:
        """Paths asked for and not loaded yet (queued or loading)."""
        with self._lock:
            return set(self._queue) | self._loading

    def get(self, path: str) -> QPixmap | None:
        if path in self._cache:
            self._cache.move_to_end(path)
            return self._cache[path]
        with self._lock:
            if path in self._loading:
                return None
            self._queue[path] = None
            self._queue.move_to_end(path)  # asked again: newest again
            while len(self._queue) > self._queued:
                self._queue.popitem(last=False)  # the stalest: a row scrolled past long ago
            start = self._loaders < self._threads
            self._loaders += start
        if start:
            self._pool.start(_Loader(self))
        return None

    def has(self, path: str) -> bool:
        """Whether ``path`` is loaded (or known to be unreadable), without asking for it."""
        return path in self._cache

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()  # a load already running finishes and is cached harmlessly
        self._cache.clear()

    def wait(self, msecs: int = 5000) -> bool:
        """Wait for loads in flight (used at shutdown and in tests)."""
        return self._pool.waitForDone(msecs)

    def _take(self) -> str | None:
        """The newest request for a loader thread, or None (and the loader ends) when there is none."""
        with self._lock:
            if not self._queue:
                self._loaders -= 1
                return None
            path, _ = self._queue.popitem(last=True)
            self._loading.add(path)
            return path

    def _on_loaded(self, path: str, image: QImage) -> None:
        with self._lock:
            self._loading.discard(path)
        pixmap = None if image.isNull() else QPixmap.fromImage(image)
        if pixmap is not None:
            pixmap.setDevicePixelRatio(self._ratio)  # drawn at ``side`` logical pixels
        self._cache[path] = pixmap
        while len(self._cache) > self._capacity:
            self._cache.popitem(last=False)
        emit(self.ready, path)
