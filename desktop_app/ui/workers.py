"""Background work for the window: QRunnables with a QObject carrying typed signals.

Nothing slow runs on the GUI thread. :class:`Task` runs any function (loading
the model registry, creating a session, classifying one image);
:class:`BatchWorker` streams a folder through the engine's
``classify_stream`` and delivers results in small chunks (one signal per
image would flood the event loop on a fast model). Cancelling sets a
``threading.Event`` that the engine checks between images; everything
classified before that is kept.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Signal

from desktop_app.ui.scope_setting import second_opinion
from desktop_app.ui.signals import emit


class WorkerSignals(QObject):
    """progress(Progress), result(object), error(str), finished()."""

    progress = Signal(object)
    result = Signal(object)
    error = Signal(str)
    finished = Signal()


def emit_if_alive(signal: Any, *args: Any) -> None:
    """Emit from a worker thread, unless the receiving side is already gone (a closed dialog, app shut down)."""
    with contextlib.suppress(RuntimeError):  # "Signal source has been deleted"
        emit(signal, *args)


class Task(QRunnable):
    """Run ``fn(*args, **kwargs)`` on a pool thread; emit its return value or its error."""

    def __init__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        super().__init__()
        self.signals = WorkerSignals()
        self._fn, self._args, self._kwargs = fn, args, kwargs

    def run(self) -> None:
        try:
            value = self._fn(*self._args, **self._kwargs)
        except Exception as exc:  # noqa: BLE001 - every failure reaches the user as a message
            emit_if_alive(self.signals.error, str(exc) or type(exc).__name__)
        else:
            emit_if_alive(self.signals.result, value)
        finally:
            emit_if_alive(self.signals.finished)


class BatchWorker(QRunnable):
    """Classify ``paths`` (files and folders) with model ``info`` on ``device``.

    ``result`` carries lists of Predictions; the session is created (or taken
    from the engine's cache) on the worker thread, never on the GUI thread, and
    so is the scope check of ``info`` among ``models`` when ``scope_check``.
    """

    def __init__(
        self,
        paths: Sequence[str],
        info: Any,
        device: Any,
        *,
        top_k: int = 3,
        chunk_interval_s: float = 0.1,
        models: Sequence[Any] = (),
        scope_check: bool = False,
    ) -> None:
        super().__init__()
        self.signals = WorkerSignals()
        self.cancel_event = threading.Event()
        self._paths = list(paths)
        self._info = info
        self._device = device
        self._top_k = top_k
        self._interval = chunk_interval_s
        self._models = list(models)
        self._scope_check = scope_check

    def cancel(self) -> None:
        self.cancel_event.set()

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def run(self) -> None:
        from desktop_app.engine.batch import classify_stream
        from desktop_app.engine.classifier import get_classifier

        chunk: list[Any] = []
        last_emit = time.monotonic()
        latest_progress: list[Any] = []

        def on_progress(progress: Any) -> None:
            latest_progress[:] = [progress]

        try:
            classifier = get_classifier(self._info, self._device)
            scope = second_opinion(self._info, self._models, self._device, enabled=self._scope_check)
            for prediction in classify_stream(
                self._paths,
                classifier,
                top_k=self._top_k,
                cancel=self.cancel_event,
                on_progress=on_progress,
                scope=scope,
            ):
                chunk.append(prediction)
                now = time.monotonic()
                if now - last_emit >= self._interval:
                    self._flush(chunk, latest_progress)
                    chunk = []
                    last_emit = now
        except Exception as exc:  # noqa: BLE001
            emit_if_alive(self.signals.error, f"The batch stopped: {exc}")
        finally:
            self._flush(chunk, latest_progress)
            emit_if_alive(self.signals.finished)

    def _flush(self, chunk: list[Any], latest_progress: list[Any]) -> None:
        if chunk:
            emit_if_alive(self.signals.result, list(chunk))
        if latest_progress:
            emit_if_alive(self.signals.progress, latest_progress[0])
