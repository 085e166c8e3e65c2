"""A loaded model that turns images into predictions, and a cache of them.

``Classifier.classify`` never raises for a bad image: it returns a
:class:`Prediction` whose ``error`` says what went wrong, so a folder of
100,000 files with a few broken ones still finishes.

Cancel: a run given a ``cancel`` event is stopped inside onnxruntime
(``RunOptions.terminate``) when that event is set, by the watcher
:meth:`Classifier.stop_runs_on` starts; it then raises
:class:`InferenceCancelled`. A model whose graph never finishes can still be
cancelled, and only the runs of that event are stopped.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, cast

import numpy as np
import onnxruntime as ort

from desktop_app.engine.contract import ModelInfo
from desktop_app.engine.images import DEFAULT_FIT, ImageLoadError, load_pixels_at
from desktop_app.engine.lru import LruCache
from desktop_app.engine.sessions import Device, create_session, intra_op_threads
from desktop_app.engine.verdict import ScopeVerdict

#: Top-1 probability under which a prediction is flagged "unsure". With ten
#: classes, below 0.5 the model gives the other nine classes together more
#: weight than its answer; photos of things outside CIFAR-10 (sunflowers, hot
#: dogs) should land there. Re-checked with the shipped models by
#: ``scripts/measure_fit_modes.py`` (it prints the top-1 probability of every photo).
DEFAULT_UNSURE_THRESHOLD = 0.5
#: How often the cancel watcher looks at its event (seconds).
CANCEL_POLL_S = 0.05
#: Sessions kept by :func:`get_classifier` (each holds its weights in memory).
CACHE_SIZE = 6


@dataclass
class Prediction:
    """The outcome for one image: a label with probabilities, or an error."""

    path: str | None
    label: str | None = None
    probability: float | None = None
    top_k: list[tuple[str, float]] = field(default_factory=list)
    probabilities: np.ndarray | None = None
    error: str | None = None
    unsure: bool = False
    #: The scope / novelty check beside the answer; None when no check ran (turned off, or none for this model).
    scope: ScopeVerdict | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def in_scope(self) -> bool | None:
        """False: the photo shows none of the model's classes; None: not checked."""
        return None if self.scope is None else self.scope.in_scope

    @property
    def looks_like(self) -> str | None:
        """What the general model sees in the photo, when a check said so."""
        return self.scope.looks_like or None if self.scope is not None else None


def make_predictions(
    paths: Sequence[str | None],
    probabilities: np.ndarray,
    labels: Sequence[str],
    *,
    top_k: int = 3,
    threshold: float,
) -> list[Prediction]:
    """One :class:`Prediction` per row of an ``(N, C)`` probability array (sorted once for the batch)."""
    probs = np.atleast_2d(np.asarray(probabilities, dtype=np.float32))
    if len(probs) != len(paths):
        raise ValueError(f"{len(paths)} paths but {len(probs)} rows of probabilities")
    order = np.argsort(-probs, axis=1, kind="stable")[:, : max(1, min(top_k, len(labels)))]
    top = np.take_along_axis(probs, order, axis=1)
    return [
        Prediction(
            path=path,
            label=labels[indices[0]],
            probability=values[0],
            top_k=[(labels[i], v) for i, v in zip(indices, values)],
            probabilities=row,
            unsure=values[0] < threshold,
        )
        for path, indices, values, row in zip(paths, order.tolist(), top.tolist(), probs)
    ]


def make_prediction(
    path: str | None, probabilities: np.ndarray, labels: Sequence[str], *, top_k: int = 3, threshold: float
) -> Prediction:
    """Build a :class:`Prediction` from one row of class probabilities."""
    return make_predictions([path], probabilities, labels, top_k=top_k, threshold=threshold)[0]


class SecondOpinion(Protocol):
    """The scope check (``scope.ScopeChecker``) or a taught model's novelty check (``novelty.NoveltyCheck``)."""

    @property
    def input_size(self) -> tuple[int, int]: ...

    def check_arrays(
        self,
        batch: np.ndarray,
        *,
        sizes: Sequence[tuple[int, int] | None] | None = None,
        parallel: bool = False,
        cancel: threading.Event | None = None,
    ) -> list[ScopeVerdict]: ...


def second_opinion_min_side(opinion: SecondOpinion | None) -> int:
    """Shorter side under which ``opinion`` does not look at an image (its pixels need not be made)."""
    return int(getattr(opinion, "min_side", 0))


def add_second_opinion(
    rows: Sequence[Prediction],
    opinion: SecondOpinion,
    images: Sequence[np.ndarray | None],
    sizes: Sequence[tuple[int, int] | None],
    *,
    parallel: bool = False,
    cancel: threading.Event | None = None,
) -> None:
    """Set ``scope`` of each row from ``opinion`` run on the same images (uint8 or float, at its input size).

    ``sizes``: the files' (width, height) as decoded, so that tiny images are not judged; an image left out
    (None: under :func:`second_opinion_min_side`) gets the scope check's "too small" verdict.
    ``parallel``: this runs beside other runs (the scope checker then uses its one-thread session);
    ``cancel``: stops the scope checker's run like the model's (:class:`InferenceCancelled`); a check
    that cannot use them (the novelty check) ignores both.
    """
    from desktop_app.engine.scope import TOO_SMALL

    judged = [i for i, image in enumerate(images) if image is not None]
    verdicts = [TOO_SMALL] * len(rows)
    if judged:
        batch = np.stack([image for image in images if image is not None]).astype(np.float32)
        found = opinion.check_arrays(batch, sizes=[sizes[i] for i in judged], parallel=parallel, cancel=cancel)
        for i, verdict in zip(judged, found, strict=True):
            verdicts[i] = verdict
    for row, verdict in zip(rows, verdicts, strict=True):
        row.scope = verdict


class InferenceCancelled(RuntimeError):
    """A model run was stopped inside onnxruntime because its cancel event was set."""


def error_prediction(path: str | Path | None, error: str) -> Prediction:
    return Prediction(path=None if path is None else str(path), error=error)


class Classifier:
    """One model on one device; thread-safe (onnxruntime sessions are)."""

    def __init__(
        self, info: ModelInfo, device: Device = Device.AUTO, *, unsure_threshold: float = DEFAULT_UNSURE_THRESHOLD
    ) -> None:
        self.info = info
        self.unsure_threshold = unsure_threshold
        self.model_path = info.path  # the file the sessions run (a derived model's base file stays here)
        self.session, self.report = create_session(info.path, device)
        self.last_inference_ms: float | None = None
        self._parallel_session = None  # opened by the first parallel run that overlaps another
        self._parallel_lock = threading.RLock()
        self._main_runs = 0  # runs in self.session right now
        self._runs: dict[ort.RunOptions, threading.Event] = {}  # runs in progress -> their cancel event
        self._runs_lock = threading.Lock()

    @property
    def input_size(self) -> tuple[int, int]:
        return self.info.input_size

    @property
    def parallel_runs(self) -> int:
        """Model runs a folder run should keep going side by side: one per physical core on the CPU, else 1.

        On the CPU those runs go to a second session with one thread
        (``predict_arrays(..., parallel=True)``): runs side by side, one per
        core, need no hand-off between the cores inside every layer, and a
        decode thread that takes a core for a while then delays one run
        instead of stalling both cores (docs/engine.md). That session holds
        a second copy of the weights.
        """
        return 1 if self._on_cuda else intra_op_threads()

    @property
    def _on_cuda(self) -> bool:
        return self.report.provider_label == "CUDA"

    def _session_for(self, parallel: bool) -> ort.InferenceSession:
        """A parallel run opens the side-by-side session only when it would overlap another run, so one
        image (or a folder's first batch) never pays for opening it."""
        with self._parallel_lock:
            if not parallel or self._on_cuda or (self._parallel_session is None and not self._main_runs):
                return self.session
            if self._parallel_session is None:
                self._parallel_session, _ = create_session(self.model_path, Device.CPU, threads=1)
            return self._parallel_session

    @contextmanager
    def _session_in_use(self, parallel: bool) -> Iterator[Any]:
        with self._parallel_lock:
            session = self._session_for(parallel)
            main = session is self.session
            self._main_runs += main
        try:
            yield session
        finally:
            if main:
                with self._parallel_lock:
                    self._main_runs -= 1

    def predict_arrays(
        self, batch: np.ndarray, *, parallel: bool = False, cancel: threading.Event | None = None
    ) -> np.ndarray:
        """``(N, H, W, 3)`` float RGB 0..255 -> ``(N, C)`` probabilities.

        ``parallel``: this call runs beside others (see :attr:`parallel_runs`).
        ``cancel``: :meth:`cancel_runs` with this event stops the run
        (:class:`InferenceCancelled`); it is stopped at once when already set.
        """
        batch = np.asarray(batch)
        height, width = self.info.input_size
        if batch.ndim != 4 or batch.shape[1:] != (height, width, 3):
            raise ValueError(
                f"batch shape {tuple(batch.shape)} does not match the model input "
                f"[N, {height}, {width}, 3] of {self.info.name}"
            )
        feed = np.ascontiguousarray(batch, dtype=np.float32)
        options = ort.RunOptions()
        if cancel is not None:
            options.log_severity_level = 4  # a cancelled run is no error for onnxruntime's log
            with self._runs_lock:
                self._runs[options] = cancel
            options.terminate = cancel.is_set()
        try:
            with self._session_in_use(parallel) as session:  # opening the side-by-side session is not inference time
                start = time.perf_counter()
                (probabilities,) = session.run([self.info.output_name], {self.info.input_name: feed}, options)
                self.last_inference_ms = (time.perf_counter() - start) * 1000.0
        except Exception:
            if options.terminate:
                raise InferenceCancelled(f"the run of {self.info.name} was cancelled") from None
            raise
        finally:
            if cancel is not None:
                with self._runs_lock:
                    self._runs.pop(options, None)
        return cast(np.ndarray, probabilities)

    def cancel_runs(self, cancel: threading.Event) -> int:
        """Stop the runs in progress that were given ``cancel``; return how many."""
        with self._runs_lock:
            mine = [options for options, event in self._runs.items() if event is cancel]
            for options in mine:
                options.terminate = True
        return len(mine)

    def stop_runs_on(self, cancel: threading.Event, finished: threading.Event) -> threading.Thread:
        """Start a watcher that stops this event's runs once ``cancel`` is set (until ``finished`` is)."""

        def watch() -> None:
            while not finished.is_set():
                if cancel.wait(CANCEL_POLL_S):
                    self.cancel_runs(cancel)
                    return

        thread = threading.Thread(target=watch, name="cancel-runs", daemon=True)
        thread.start()
        return thread

    def predictions(
        self,
        paths: Sequence[str | None],
        batch: np.ndarray,
        *,
        top_k: int = 3,
        parallel: bool = False,
        cancel: threading.Event | None = None,
    ) -> list[Prediction]:
        """Classify a decoded batch and pair each row with its path."""
        rows = self.predict_arrays(batch, parallel=parallel, cancel=cancel)
        return make_predictions(paths, rows, self.info.labels, top_k=top_k, threshold=self.unsure_threshold)

    def classify(
        self, source: str | Path | bytes, *, top_k: int = 3, fit: str = DEFAULT_FIT, scope: SecondOpinion | None = None
    ) -> Prediction:
        """Classify one image file (or encoded bytes); errors come back in the Prediction.

        ``scope``: a second opinion run on the same decode (``Prediction.scope``); None: no check.
        """
        path = None if isinstance(source, (bytes, bytearray, memoryview)) else str(source)
        sizes = [self.info.input_size]
        if scope is not None and scope.input_size != self.info.input_size:
            sizes.append(scope.input_size)
        try:
            pixels, size = load_pixels_at(source, sizes, fit=fit, extra_min_side=second_opinion_min_side(scope))
        except ImageLoadError as exc:
            return error_prediction(path, str(exc))
        first = pixels[0]
        assert first is not None  # load_pixels_at always makes the first size
        prediction = self.predictions([path], first[None].astype(np.float32), top_k=top_k)[0]
        if scope is not None:
            add_second_opinion([prediction], scope, [pixels[-1]], [size])
        return prediction


_cache: LruCache[tuple[str, int, Device], Classifier] = LruCache(CACHE_SIZE)


def get_classifier(info: ModelInfo, device: Device = Device.AUTO) -> Classifier:
    """A cached :class:`Classifier` per (file, modification time, device).

    Switching back to a model is instant; a file replaced on disk is reloaded.
    """
    path = Path(info.path).resolve()

    def make() -> Classifier:
        from desktop_app.engine.derived import classifier_for  # derived imports this module

        return classifier_for(info, Device(device))

    classifier = _cache.get((str(path), path.stat().st_mtime_ns, Device(device)), make)
    assert classifier is not None  # make() always gives one
    return classifier


def clear_classifier_cache() -> None:
    _cache.clear()
