"""Streaming classification of many files with flat memory.

Files are discovered lazily (:func:`iter_image_files`), decoded in small
chunks on a thread pool (Pillow releases the GIL while decoding) with at
most ``2 * batch_size + workers`` files in flight, and classified in
batches: on the CPU, ``Classifier.parallel_runs`` runs side by side on
inference threads, each on one core and on its share of ``batch_size`` (on
2 cores the shipped int8 deep CNN gains 19%, float32 9%; docs/engine.md);
on CUDA, one batch at a time on the calling thread. The next decodes are
submitted before a batch's rows are handed out, so they run while the
caller writes them. Each prediction is yielded as soon as its batch is
done, in order; nothing is kept once yielded, so 100,000 files cost no
more memory than 100.

Order: successfully decoded files come out in discovery order; an error row
(unreadable file or folder) comes out as soon as the problem is known, which
can be before the batch holding earlier files.

The total for progress is counted by a background thread walking the same
paths (cheap: names only); ``Progress.total`` is None until it finishes.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout  # not the builtin before Python 3.11
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from desktop_app.engine.classifier import (
    CANCEL_POLL_S, Classifier, InferenceCancelled, Prediction, error_prediction,
)
from desktop_app.engine.images import DEFAULT_FIT, ImageLoadError, load_pixels
from desktop_app.engine.machine import logical_cpus
from desktop_app.engine.sessions import intra_op_threads
from desktop_app.engine.walk import count_image_files, iter_image_files

__all__ = ["Progress", "classify_stream", "iter_image_files", "share_of_batch"]

#: Minimum seconds between two ``on_progress`` calls (the last one always comes).
PROGRESS_INTERVAL_S = 0.1
#: Files per decode task: fewer futures and thread hand-offs for small images.
DECODE_CHUNK = 8


@dataclass
class Progress:
    """Where a batch stands: files done (including failures), total when known."""

    done: int = 0
    total: int | None = None
    failed: int = 0
    elapsed_s: float = 0.0

    @property
    def rate(self) -> float:
        """Images per second so far."""
        return self.done / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        """Seconds left at the current rate, or None when unknown."""
        if self.total is None or self.rate <= 0:
            return None
        return max(0, self.total - self.done) / self.rate


class _Counter(threading.Thread):
    """Counts the files in the background so the first results are not delayed."""

    def __init__(self, paths: list[str | Path], recursive: bool, stop: Callable[[], bool]) -> None:
        super().__init__(name="image-counter", daemon=True)
        self.paths, self.recursive, self.stop = paths, recursive, stop
        self.total: int | None = None

    def run(self) -> None:
        self.total = count_image_files(self.paths, recursive=self.recursive, stop=self.stop)


def _decode(path: Path, size: tuple[int, int], fit: str) -> np.ndarray | str:
    try:
        return load_pixels(path, size, fit=fit)
    except ImageLoadError as exc:
        return str(exc)
    except Exception as exc:  # a Pillow bug must cost one row, not the batch
        return f"{path.name}: unexpected error while decoding ({type(exc).__name__}: {exc})"


def _decode_chunk(paths: list[Path], size: tuple[int, int], fit: str) -> list[np.ndarray | str]:
    return [_decode(path, size, fit) for path in paths]


def _result_unless_cancelled(future: Future, cancel: threading.Event) -> list | None:
    """The decode chunk's results, or None as soon as ``cancel`` is set (a decode may be stuck in a read)."""
    while True:
        try:
            return future.result(timeout=CANCEL_POLL_S)
        except FutureTimeout:
            if cancel.is_set():
                return None


def decode_workers(on_gpu: bool = False) -> int:
    """Decode threads: the logical CPUs that inference leaves free, 1 to 4.

    On the CPU onnxruntime keeps one intra-op thread per physical core busy;
    more decode threads than the cores left only trade places with it (on 2
    cores one decode thread beat two; docs/engine.md). A GPU leaves the
    CPUs to decoding.
    """
    cpus = logical_cpus()
    return max(1, min(4, cpus if on_gpu else cpus - intra_op_threads()))


def share_of_batch(batch_size: int, runs: int) -> int:
    """Images per model run when ``runs`` runs side by side share a batch of ``batch_size``."""
    return -(-batch_size // runs)


def classify_stream(
    paths: Iterable[str | Path],
    classifier: Classifier,
    *,
    top_k: int = 3,
    batch_size: int = 64,
    workers: int | None = None,
    cancel: threading.Event | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    fit: str = DEFAULT_FIT,
    recursive: bool = True,
) -> Iterator[Prediction]:
    """Yield one :class:`Prediction` per file found in ``paths`` (see module doc)."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    paths = list(paths)
    cancel = cancel or threading.Event()
    finished = threading.Event()
    workers = workers or decode_workers(classifier.report.provider_label == "CUDA")
    limit = 2 * batch_size + workers  # files decoding, or decoded and waiting for the model
    progress = Progress()
    start = time.perf_counter()
    last_report = [0.0]
    exact_total: list[int | None] = [None]
    counter = _Counter(paths, recursive, lambda: cancel.is_set() or finished.is_set())
    counter.start()

    def report(force: bool = False) -> None:
        if on_progress is None:
            return
        now = time.perf_counter()
        if not force and now - last_report[0] < PROGRESS_INTERVAL_S:
            return
        last_report[0] = now
        progress.elapsed_s = now - start
        progress.total = exact_total[0] if exact_total[0] is not None else counter.total
        on_progress(Progress(progress.done, progress.total, progress.failed, progress.elapsed_s))

    def emit(rows: list[Prediction]) -> Iterator[Prediction]:
        """Hand out ``rows``, counting them; stops as soon as the run is cancelled."""
        for row in rows:
            if cancel.is_set():
                return
            progress.done += 1
            progress.failed += not row.ok
            report()
            yield row

    def flush(batch_paths: list[str], arrays: list[np.ndarray]) -> list[Prediction]:
        """Send the collected batch to the model; return the batches finished by now, oldest first."""
        names, batch = list(batch_paths), np.stack(arrays).astype(np.float32)
        batch_paths.clear()
        arrays.clear()
        if infer is None:
            return classifier.predictions(names, batch, top_k=top_k, cancel=cancel)
        running.append(infer.submit(classifier.predictions, names, batch, top_k=top_k, parallel=True, cancel=cancel))
        return collect(runs)

    def collect(keep: int) -> list[Prediction]:
        """Finished batches in order; waits for the oldest while more than ``keep`` are in the model."""
        rows: list[Prediction] = []
        while running and (len(running) > keep or running[0].done()):
            rows += running.popleft().result()
        return rows

    errors: list[tuple[Path, str]] = []
    files = iter_image_files(paths, recursive=recursive, errors=errors)
    pending: deque[tuple[list[Path], Future]] = deque()
    in_flight = 0
    exhausted = False
    batch_paths: list[str] = []
    arrays: list[np.ndarray] = []
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="decode")
    runs = classifier.parallel_runs
    infer = ThreadPoolExecutor(max_workers=runs, thread_name_prefix="infer") if runs > 1 else None
    running: deque[Future] = deque()  # batches in the model, oldest first
    # Side by side, each run takes its share of ``batch_size``: the model holds no more images (and
    # activations: 0.8 GB for EfficientNet-Lite0 at 64) than one batch at a time would.
    run_size = share_of_batch(batch_size, runs)
    size = classifier.input_size
    completed = False
    classifier.stop_runs_on(cancel, finished)  # a model run stuck in onnxruntime stops on cancel

    def refill() -> list[Prediction]:
        """Submit decode tasks up to the limit; return error rows of unreadable folders met."""
        nonlocal in_flight, exhausted
        rows = []
        while not exhausted and in_flight + len(arrays) < limit:
            chunk = list(itertools.islice(files, DECODE_CHUNK))
            while errors:
                folder, reason = errors.pop(0)
                rows.append(error_prediction(folder, f"{folder.name}: {reason}"))
            exhausted = len(chunk) < DECODE_CHUNK
            if chunk:
                pending.append((chunk, pool.submit(_decode_chunk, chunk, size, fit)))
                in_flight += len(chunk)
        return rows

    try:
        yield from emit(refill())
        while pending and not cancel.is_set():
            chunk, future = pending.popleft()
            results = _result_unless_cancelled(future, cancel)
            in_flight -= len(chunk)
            if results is None or cancel.is_set():
                break
            ready: list[Prediction] = []
            for path, result in zip(chunk, results):
                if isinstance(result, str):
                    ready.append(error_prediction(path, result))
                    continue
                batch_paths.append(str(path))
                arrays.append(result)
                if len(arrays) >= run_size:
                    ready += flush(batch_paths, arrays)
            ready += refill()  # the next decodes start before the caller handles these rows
            if arrays and exhausted and not pending:
                ready += flush(batch_paths, arrays)
            yield from emit(ready + collect(runs))
        if not cancel.is_set():
            yield from emit(collect(0))
        completed = not cancel.is_set()
    except InferenceCancelled:
        pass  # only cancel stops a run: the rows handed out so far stand
    finally:
        finished.set()  # stops the counter if it is still walking
        for _, future in pending:
            future.cancel()
        # Cancelled, interrupted or closed: never wait for a decode stuck in a read, nor for a model
        # run (stopped inside onnxruntime here); their rows are dropped.
        if not completed:
            classifier.cancel_runs(cancel)
        pool.shutdown(wait=completed, cancel_futures=True)
        if infer is not None:
            infer.shutdown(wait=completed, cancel_futures=True)
        if completed:
            exact_total[0] = progress.done  # known exactly now, whether or not the counter finished
        report(force=True)
