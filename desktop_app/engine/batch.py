"""Streaming classification of many files with flat memory.

Two sides with a short loop between them (:func:`classify_stream`):

* :class:`DecodeSide` walks the paths lazily (:func:`iter_image_files`),
  decodes small chunks of files on decode threads, each chunk on the one
  with the shortest queue (Pillow releases the GIL while decoding), with at
  most ``2 * batch_size + threads`` files in flight, and turns unreadable
  files and folders into error rows. It decodes each
  file once for a tuple of model input sizes ("decode once, resize per
  model"); the classifier uses the first.
* :class:`InferenceSide` collects decoded images into batches and runs
  them: on the CPU ``Classifier.parallel_runs`` runs side by side on
  inference threads, each on one core and on its share of ``batch_size``
  (on 2 cores the shipped int8 deep CNN gains 19%, float32 9%;
  docs/engine.md); on CUDA one batch at a time on the calling thread. Rows
  come back in order.

How many decode threads run at once follows what the run costs: both sides
time their work per image (CPU seconds of the threads doing it) and the
decode side gets the share of the cores that decoding needs
(:func:`split_decode_threads`): 32x32 CIFAR JPEGs keep one decode thread
beside the model on 2 cores, 12-MP phone photos get every core.

The next decodes are submitted before a batch's rows are handed out, so they
run while the caller writes them. Each prediction is yielded as soon as its
batch is done, in order; nothing is kept once yielded, so 100,000 files cost
no more memory than 100.

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
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from desktop_app.engine.classifier import (
    CANCEL_POLL_S,
    Classifier,
    InferenceCancelled,
    Prediction,
    SecondOpinion,
    add_second_opinion,
    error_prediction,
    second_opinion_min_side,
)
from desktop_app.engine.images import DEFAULT_FIT, decoded_or_error, load_pixels_at
from desktop_app.engine.machine import logical_cpus
from desktop_app.engine.sessions import intra_op_threads
from desktop_app.engine.walk import count_image_files, iter_image_files

__all__ = [
    "DecodeSide",
    "InferenceSide",
    "Progress",
    "classify_stream",
    "iter_image_files",
    "share_of_batch",
    "split_decode_threads",
]

#: Minimum seconds between two ``on_progress`` calls (the last one always comes).
PROGRESS_INTERVAL_S = 0.1
#: Most files per decode task: fewer futures and thread hand-offs for small images.
DECODE_CHUNK = 8
#: CPU seconds a decode task aims at: big photos go one per task, so every thread has work to the end.
DECODE_TASK_S = 0.002
#: Most decode threads a run may use (the in-flight bound grows with it).
MAX_DECODE_THREADS = 16


class DecodedImage(NamedTuple):
    """One decoded file: uint8 pixels at each requested size, and its (width, height) as decoded."""

    pixels: tuple[np.ndarray | None, ...]  # None: a second model's size for an image it does not look at
    size: tuple[int, int]


#: What one file decodes to: a :class:`DecodedImage`, or the error text.
Decoded = DecodedImage | str


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


class _Cost:
    """CPU seconds spent per image by one side, summed over its threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.seconds = 0.0
        self.images = 0

    def add(self, seconds: float, images: int) -> None:
        with self._lock:
            self.seconds += seconds
            self.images += images

    @property
    def per_image(self) -> float | None:
        return self.seconds / self.images if self.images else None


def _decode(path: Path, sizes: Sequence[tuple[int, int]], fit: str, extra_min_side: int = 0) -> Decoded:
    """Pixels of ``path`` at each of ``sizes`` from one decode, with its size as decoded, or the error text."""
    return decoded_or_error(
        path, lambda: DecodedImage(*load_pixels_at(path, sizes, fit=fit, extra_min_side=extra_min_side))
    )


def decode_workers(on_gpu: bool = False) -> int:
    """Decode threads when the count is fixed: the logical CPUs that inference leaves free, 1 to 4.

    On the CPU onnxruntime keeps one intra-op thread per physical core busy;
    for small images more decode threads than the cores left only trade
    places with it (on 2 cores one decode thread beat two; docs/engine.md).
    A GPU leaves the CPUs to decoding. :func:`classify_stream` uses it on
    CUDA; on the CPU it starts with every core and
    :func:`split_decode_threads` moves the count once the costs are known.
    """
    cpus = logical_cpus()
    return max(1, min(4, cpus if on_gpu else cpus - intra_op_threads()))


def split_decode_threads(decode_s: float, infer_s: float, cpus: int) -> int:
    """Decode threads for a run whose images cost ``decode_s`` to decode and ``infer_s`` to classify.

    Both are CPU seconds per image. Decoding gets its share of ``cpus``,
    rounded to the nearest whole thread, at least one and at most ``cpus``:
    on 2 cores a 32x32 JPEG (~0.1 ms against ~1.3 ms in the deep CNN) keeps
    one thread, a 12-MP photo (~22 ms against ~1.3 ms) gets two.
    """
    share = decode_s / (decode_s + infer_s) if decode_s + infer_s > 0 else 0.0
    return max(1, min(cpus, int(cpus * share + 0.5)))


class DecodeSide:
    """Files found lazily and decoded in chunks on decode threads, in discovery order.

    Chunks go to the least busy of ``threads`` decode threads (:meth:`set_threads`
    changes the count while the run goes on, up to ``max_threads``). At most
    ``limit`` files are submitted and not yet taken. Each file comes back as
    pixels for every size in ``sizes`` or as an error text; unreadable
    folders become error rows when they are met.
    """

    def __init__(
        self,
        paths: list[str | Path],
        sizes: Sequence[tuple[int, int]],
        *,
        fit: str,
        recursive: bool,
        threads: int,
        max_threads: int,
        limit: int,
        extra_min_side: int = 0,
    ) -> None:
        self.sizes, self.fit, self.limit, self.extra_min_side = tuple(sizes), fit, limit, extra_min_side
        self.cost = _Cost()
        self._errors: list[tuple[Path, str]] = []
        self._files = iter_image_files(paths, recursive=recursive, errors=self._errors)
        self._pending: deque[tuple[list[Path], Future[list[Decoded]]]] = deque()
        self._in_flight = 0
        self._exhausted = False
        self._stopped = False
        self._max_threads = max(threads, max_threads)
        self._threads = threads
        self._pools: list[tuple[ThreadPoolExecutor, deque[Future[list[Decoded]]]]] = []  # one thread each

    @property
    def threads(self) -> int:
        return self._threads

    def set_threads(self, threads: int) -> None:
        """Spread the chunks submitted from now on over ``threads`` decode threads (1 to ``max_threads``)."""
        self._threads = max(1, min(threads, self._max_threads))

    def _submit(self, chunk: list[Path]) -> Future[list[Decoded]]:
        """Queue ``chunk`` on the decode thread with the fewest chunks not yet decoded, of the first :attr:`threads`.

        One executor of one thread each rather than one pool behind a limit: with one decode thread every
        chunk stays on it. A shared pool of two behind a gate handed each chunk to the other thread: a run
        over 10,000 CIFAR-10 JPEGs made ~25,000 context switches instead of ~15,000 (docs/engine.md). The
        shortest queue rather than round robin: a folder alternating big and small files would otherwise
        queue every big one on the same thread.
        """
        while len(self._pools) < self._threads:
            self._pools.append((ThreadPoolExecutor(1, thread_name_prefix=f"decode{len(self._pools)}"), deque()))
        for _, queued in self._pools:
            while queued and queued[0].done():  # one thread each: its chunks finish in the order queued
                queued.popleft()
        pool, queued = min(self._pools[: self._threads], key=lambda pool_and_queue: len(pool_and_queue[1]))
        future = pool.submit(self._decode_chunk, chunk)
        queued.append(future)
        return future

    @property
    def chunk_size(self) -> int:
        """Files per task: about :data:`DECODE_TASK_S` of work, 1 until the first decode is timed."""
        per_image = self.cost.per_image
        return 1 if not per_image else max(1, min(DECODE_CHUNK, int(DECODE_TASK_S / per_image)))

    @property
    def done(self) -> bool:
        """Every file found has been taken."""
        return self._exhausted and not self._pending

    def refill(self, waiting: int = 0) -> list[Prediction]:
        """Submit decodes until ``limit`` files (plus ``waiting`` held downstream) are in flight.

        Returns the error rows of unreadable folders met on the way.
        """
        rows = []
        while not self._exhausted:
            # Whole chunks only, and never past the limit: topping up with the few files that just fit split
            # the chunks (10,000 CIFAR-10 JPEGs went in 1,912 tasks of 1-7 files instead of ~1,400 of 8).
            size = min(self.chunk_size, self.limit)
            if self._in_flight and self._in_flight + waiting + size > self.limit:
                break
            chunk = list(itertools.islice(self._files, size))
            while self._errors:
                folder, reason = self._errors.pop(0)
                rows.append(error_prediction(folder, f"{folder.name}: {reason}"))
            self._exhausted = len(chunk) < size
            if chunk:
                self._pending.append((chunk, self._submit(chunk)))
                self._in_flight += len(chunk)
        return rows

    def take(self, cancel: threading.Event) -> list[tuple[Path, Decoded]]:
        """The oldest chunk, waiting for its decodes; empty when nothing is pending or on ``cancel``.

        The wait is sliced so that a cancel is seen even while a decode hangs
        (a file on a stalled network drive).
        """
        if not self._pending:
            return []
        chunk, future = self._pending[0]
        while True:
            try:
                results = future.result(timeout=CANCEL_POLL_S)
                break
            except FutureTimeout:
                if cancel.is_set():
                    return []
        self._pending.popleft()
        self._in_flight -= len(chunk)
        return list(zip(chunk, results))

    def close(self, cancelled: bool) -> None:
        """Drop decodes not started; after a cancel, do not wait for the ones running."""
        self._stopped = True
        for _, future in self._pending:
            future.cancel()
        for pool, _ in self._pools:
            pool.shutdown(wait=not cancelled, cancel_futures=True)

    def _decode_chunk(self, paths: list[Path]) -> list[Decoded]:
        if self._stopped:
            return []
        start = time.thread_time()
        results = [_decode(path, self.sizes, self.fit, self.extra_min_side) for path in paths]
        self.cost.add(time.thread_time() - start, len(paths))
        return results


class InferenceSide:
    """Decoded images in, batches through the model, rows out in the order the images came in.

    With ``classifier.parallel_runs`` > 1 each batch of ``share_of_batch``
    images runs on an inference thread beside the others; otherwise on the
    calling thread.
    """

    def __init__(
        self,
        classifier: Classifier,
        batch_size: int,
        top_k: int,
        cancel: threading.Event,
        *,
        scope: SecondOpinion | None = None,
    ) -> None:
        self.classifier, self.top_k, self.cancel, self.scope = classifier, top_k, cancel, scope
        self.cost = _Cost()
        self.runs = classifier.parallel_runs
        # Side by side, each run takes its share of ``batch_size``: the model holds no more images (and
        # activations: 0.8 GB for EfficientNet-Lite0 at 64) than one batch at a time would.
        self.run_size = share_of_batch(batch_size, self.runs)
        self._paths: list[str] = []
        self._arrays: list[np.ndarray] = []
        self._scope_arrays: list[np.ndarray | None] = []
        self._sizes: list[tuple[int, int] | None] = []
        self._running: deque[Future[list[Prediction]]] = deque()  # batches in the model, oldest first
        self._pool = ThreadPoolExecutor(self.runs, thread_name_prefix="infer") if self.runs > 1 else None

    @property
    def waiting(self) -> int:
        """Images collected for the next batch."""
        return len(self._arrays)

    def add(
        self, path: str, pixels: np.ndarray, scope_pixels: np.ndarray | None = None, size: tuple[int, int] | None = None
    ) -> list[Prediction]:
        """Collect one image (and its pixels for the second opinion, None if it does not look at this one, with
        the file's size); a full batch goes to the model. Returns the rows finished by now."""
        self._paths.append(path)
        self._arrays.append(pixels)
        if self.scope is not None:
            self._scope_arrays.append(scope_pixels)
            self._sizes.append(size)
        return self.flush() if len(self._arrays) >= self.run_size else []

    def flush(self) -> list[Prediction]:
        """Send what is collected to the model; return the batches finished by now, oldest first."""
        if not self._arrays:
            return self.collect()
        names, batch = self._paths, np.stack(self._arrays).astype(np.float32)
        scope = (self._scope_arrays, self._sizes) if self.scope is not None else None
        self._paths, self._arrays, self._scope_arrays, self._sizes = [], [], [], []
        if self._pool is None:
            return self._run(names, batch, scope)
        self._running.append(self._pool.submit(self._run, names, batch, scope, True))
        return self.collect()

    def collect(self, keep: int | None = None) -> list[Prediction]:
        """Finished batches in order; waits for the oldest while more than ``keep`` (default: runs) are running."""
        keep = self.runs if keep is None else keep
        rows: list[Prediction] = []
        while self._running and (len(self._running) > keep or self._running[0].done()):
            rows += self._running.popleft().result()
        return rows

    def finish(self) -> list[Prediction]:
        """Run what is left and wait for every batch."""
        return self.flush() + self.collect(0)

    def close(self, cancelled: bool) -> None:
        """After a cancel nobody waits for the runs going (``Classifier.cancel_runs`` stops them inside onnxruntime)."""
        if self._pool is not None:
            self._pool.shutdown(wait=not cancelled, cancel_futures=True)

    def _run(
        self,
        names: list[str],
        batch: np.ndarray,
        scope: tuple[list[np.ndarray | None], list[tuple[int, int] | None]] | None = None,
        parallel: bool = False,
    ) -> list[Prediction]:
        # On the CPU every run executes on this thread (side by side: one-thread sessions; alone: one
        # intra-op thread), so this thread's CPU time is the model's (and the second opinion's).
        start = time.thread_time()
        rows = self.classifier.predictions(names, batch, top_k=self.top_k, parallel=parallel, cancel=self.cancel)
        if scope is not None and self.scope is not None and not self.cancel.is_set():
            add_second_opinion(rows, self.scope, *scope, parallel=parallel, cancel=self.cancel)
        self.cost.add(time.thread_time() - start, len(names))
        return rows


def share_of_batch(batch_size: int, runs: int) -> int:
    """Images per model run when ``runs`` runs side by side share a batch of ``batch_size``."""
    return -(-batch_size // runs)


class _Tally:
    """Counts the rows handed out and reports progress at most every :data:`PROGRESS_INTERVAL_S`."""

    def __init__(self, on_progress: Callable[[Progress], None] | None, counter: _Counter) -> None:
        self.on_progress, self.counter = on_progress, counter
        self.progress = Progress()
        self.exact_total: int | None = None
        self._start = time.perf_counter()
        self._last = 0.0

    def hand_out(self, rows: list[Prediction], cancel: threading.Event) -> Iterator[Prediction]:
        """Yield ``rows``, counting them; stops as soon as the run is cancelled."""
        for row in rows:
            if cancel.is_set():
                return
            self.progress.done += 1
            self.progress.failed += not row.ok
            self.report()
            yield row

    def report(self, force: bool = False) -> None:
        if self.on_progress is None:
            return
        now = time.perf_counter()
        if not force and now - self._last < PROGRESS_INTERVAL_S:
            return
        self._last = now
        p = self.progress
        p.elapsed_s = now - self._start
        p.total = self.exact_total if self.exact_total is not None else self.counter.total
        self.on_progress(Progress(p.done, p.total, p.failed, p.elapsed_s))


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
    scope: SecondOpinion | None = None,
) -> Iterator[Prediction]:
    """Yield one :class:`Prediction` per file found in ``paths`` (see module doc).

    ``scope``: a second opinion (:func:`desktop_app.engine.scope.second_opinion_for`) run on the same
    decoded image; it sets ``Prediction.scope`` (files under ``MIN_CHECK_SIDE`` pixels are not judged).

    ``workers`` fixes the number of decode threads; by default it follows the run's costs on the CPU
    (every core until the first batch is timed) and is :func:`decode_workers` on CUDA.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    paths = list(paths)
    cancel = cancel or threading.Event()
    finished = threading.Event()
    on_gpu = classifier.report.provider_label == "CUDA"
    adaptive = workers is None and not on_gpu
    max_threads = min(logical_cpus(), MAX_DECODE_THREADS) if adaptive else workers or decode_workers(on_gpu)
    counter = _Counter(paths, recursive, lambda: cancel.is_set() or finished.is_set())
    counter.start()
    tally = _Tally(on_progress, counter)
    sizes = [classifier.input_size]
    if scope is not None and scope.input_size not in sizes:
        sizes.append(scope.input_size)  # decode once, resize per model
    scope_index = sizes.index(scope.input_size) if scope is not None else 0
    decoder = DecodeSide(
        paths,
        sizes,
        fit=fit,
        recursive=recursive,
        threads=max_threads,  # until the first batch is timed the model has nothing to do: decoding takes them all
        max_threads=max_threads,
        limit=2 * batch_size + max_threads,
        extra_min_side=second_opinion_min_side(scope),
    )
    model = InferenceSide(classifier, batch_size, top_k, cancel, scope=scope)
    completed = False
    # A model run stuck in onnxruntime stops on cancel; so does the scope checker's.
    scope_classifier = getattr(scope, "classifier", None)
    running = [classifier, *([scope_classifier] if isinstance(scope_classifier, Classifier) else [])]
    for model_classifier in running:
        model_classifier.stop_runs_on(cancel, finished)
    try:
        yield from tally.hand_out(decoder.refill(), cancel)
        while not decoder.done and not cancel.is_set():
            decoded = decoder.take(cancel)
            if cancel.is_set():
                break
            ready: list[Prediction] = []
            for path, result in decoded:
                if isinstance(result, str):
                    ready.append(error_prediction(path, result))
                else:
                    pixels = result.pixels[0]
                    assert pixels is not None  # load_pixels_at always makes the first size
                    ready += model.add(str(path), pixels, result.pixels[scope_index], result.size)
            ready += decoder.refill(model.waiting)  # the next decodes start before the caller handles these rows
            if decoder.done:
                ready += model.finish()
            elif adaptive and decoder.cost.per_image is not None:
                # Until the first batch is timed, decoding takes the cores (the model has nothing to do yet).
                decoder.set_threads(
                    split_decode_threads(decoder.cost.per_image, model.cost.per_image or 0.0, max_threads)
                )
            yield from tally.hand_out(ready + model.collect(), cancel)
        completed = not cancel.is_set()
    except InferenceCancelled:
        pass  # only cancel stops a run: the rows handed out so far stand
    finally:
        finished.set()  # stops the counter if it is still walking
        if not completed:
            for model_classifier in running:
                model_classifier.cancel_runs(cancel)
        decoder.close(cancelled=not completed)
        model.close(cancelled=not completed)
        if completed:
            tally.exact_total = tally.progress.done  # known exactly now, whether or not the counter finished
        tally.report(force=True)
