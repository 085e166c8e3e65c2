"""Small thumbnails for the results table, loaded in the background on demand.

Only rows the view paints ask for a thumbnail, and at most ``capacity`` are
kept (least recently used dropped), so a batch of 100,000 files does not hold
100,000 pixmaps. Loading runs on a private one-thread pool so that it never
competes with the batch for more than one core.
"""

from __future__ import annotations

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


class _LoadThumbnail(QRunnable):
    def __init__(self, path: str, side: int, signals: _Signals) -> None:
        super().__init__()
        self._path, self._side, self._signals = path, side, signals

    def run(self) -> None:
        emit(self._signals.loaded, self._path, read_qimage(self._path, self._side))


class ThumbnailCache(QObject):
    """``get(path)`` returns a QPixmap when loaded, else None and starts loading it."""

    ready = Signal(str)

    def __init__(self, side: int = 40, capacity: int = 600, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.side = side
        self._capacity = capacity
        self._ratio = _device_pixel_ratio()
        self._cache: OrderedDict[str, QPixmap | None] = OrderedDict()
        self._pending: set[str] = set()
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._signals = _Signals(self)
        self._signals.loaded.connect(self._on_loaded)

    def get(self, path: str) -> QPixmap | None:
        if path in self._cache:
            self._cache.move_to_end(path)
            return self._cache[path]
        if path not in self._pending:
            self._pending.add(path)
            self._pool.start(_LoadThumbnail(path, round(self.side * self._ratio), self._signals))
        return None

    def clear(self) -> None:
        self._pool.clear()  # drop queued loads; a running one finishes and is cached harmlessly
        self._cache.clear()
        self._pending.clear()

    def wait(self, msecs: int = 5000) -> bool:
        """Wait for loads in flight (used at shutdown and in tests)."""
        return self._pool.waitForDone(msecs)

    def _on_loaded(self, path: str, image: QImage) -> None:
        self._pending.discard(path)
        pixmap = None if image.isNull() else QPixmap.fromImage(image)
        if pixmap is not None:
            pixmap.setDevicePixelRatio(self._ratio)  # drawn at ``side`` logical pixels
        self._cache[path] = pixmap
        while len(self._cache) > self._capacity:
            self._cache.popitem(last=False)
        emit(self.ready, path)
