"""Runs batches for the window: start, stream results into the table, cancel, export, sort.

A QObject so that it can own signals the tests wait on (``finished``,
``exported``, ``sorted``); all file work runs on the window's thread pool.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Callable, Sequence

from PySide6.QtCore import QObject, QThreadPool, Signal
from PySide6.QtGui import QImage

from desktop_app.ui.actions import Actions
from desktop_app.ui.batch_view import BatchView
from desktop_app.ui.qt_images import read_qimage
from desktop_app.ui.signals import emit
from desktop_app.ui.sorting import SortReport, copy_into_class_folders
from desktop_app.ui.workers import BatchWorker, Task

DETAIL_PREVIEW_SIDE = 800


def sort_report_text(report: SortReport, destination: str | Path) -> str:
    """What "Sort into folders" did, in a few lines."""
    classes = report.per_class
    lines = [f"Copied {len(report.copied):,} images into {len(classes)} class folders in {destination}."]
    if classes:
        lines.append(", ".join(f"{name}: {n:,}" for name, n in sorted(classes.items())))
    if report.renamed:
        lines.append(f"{report.renamed:,} copies got a new name because a file with that name was already there.")
    if report.failed:
        lines.append(f"{len(report.failed):,} could not be copied:")
        lines += [f"  {src.name}: {why}" for src, why in report.failed[:20]]
    lines.append("The original files were not moved or changed.")
    return "\n".join(lines)


class BatchController(QObject):
    finished = Signal()  # a batch ended (done, cancelled or failed)
    exported = Signal(str)  # path written
    sorted = Signal(object, str)  # SortReport, destination folder
    message = Signal(str)  # short status-bar text
    failed = Signal(str, str)  # title, text for a warning dialog

    def __init__(self, view: BatchView, actions: Actions, pool: QThreadPool, run_task: Callable[..., None]) -> None:
        super().__init__(view)
        self.view = view
        self.actions = actions
        self.pool = pool
        self._run_task = run_task
        self.worker: BatchWorker | None = None
        self.info: Any = None
        self._last_progress: Any = None
        self._preview_generation = 0
        view.prediction_selected.connect(self._load_detail_preview)

    @property
    def running(self) -> bool:
        return self.worker is not None

    def start(self, paths: Sequence[str], info: Any, device: Any) -> None:
        """Classify ``paths`` (files and folders) with ``info``; replaces the table's rows."""
        if self.worker is not None:
            self.worker.cancel()  # its late signals are ignored: they name another worker
        self.info = info
        self._last_progress = None
        self.view.set_labels(info.labels)
        self.view.start()
        worker = BatchWorker(paths, info, device)
        worker.signals.result.connect(lambda preds, w=worker: w is self.worker and self.view.add_predictions(preds))
        worker.signals.progress.connect(lambda p, w=worker: self._progress(w, p))
        worker.signals.error.connect(lambda msg, w=worker: w is self.worker and emit(self.failed, "Batch stopped", msg))
        worker.signals.finished.connect(lambda w=worker: self._finished(w))
        self.worker = worker
        self._update_actions()
        emit(self.message, f"Classifying {len(paths)} item(s) with {info.display_name}...")
        self.pool.start(worker)

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            self.actions.cancel.setEnabled(False)
            emit(self.message, "Cancelling the batch...")

    def _progress(self, worker: BatchWorker, progress: Any) -> None:
        if worker is self.worker:
            self._last_progress = progress
            self.view.show_progress(progress)

    def _finished(self, worker: BatchWorker) -> None:
        if worker is not self.worker:
            return
        self.worker = None
        rows, errors, unsure = self.view.model.counts()
        last = self._last_progress
        if last is not None:
            final = dataclasses.replace(last, done=rows, failed=errors)
            self.view.show_progress(final, finished=True, cancelled=worker.cancelled)
        else:
            self.view.show_progress(_EmptyProgress(), finished=True, cancelled=worker.cancelled)
        state = "cancelled" if worker.cancelled else "finished"
        emit(
            self.message,
            f"Batch {state}: {rows:,} images, {unsure:,} unsure, {errors:,} errors"
            if rows
            else "No images found in what was dropped.",
        )
        self._update_actions()
        emit(self.finished)

    def _update_actions(self) -> None:
        idle_with_rows = self.worker is None and self.view.model.rowCount() > 0
        self.actions.cancel.setEnabled(self.worker is not None)
        self.actions.export.setEnabled(idle_with_rows)
        self.actions.sort_folders.setEnabled(idle_with_rows)

    # --- detail preview -------------------------------------------------------
    def _load_detail_preview(self, prediction: Any) -> None:
        self._preview_generation += 1
        generation = self._preview_generation
        if not prediction.path:
            return
        task = Task(read_qimage, prediction.path, DETAIL_PREVIEW_SIDE)
        task.signals.result.connect(lambda img, g=generation: g == self._preview_generation and self._show_detail(img))
        self._run_task(task)

    def _show_detail(self, image: QImage) -> None:
        self.view.set_preview(image)

    # --- export and sort --------------------------------------------------------
    def export(self, path: str | Path) -> None:
        """Write the rows the table shows (filter and order included) to CSV or JSON."""
        from desktop_app.engine.results import write_results

        predictions = self.view.proxy.visible_predictions()
        task = Task(write_results, str(path), predictions, list(self.info.labels), top_k=3)
        task.signals.result.connect(lambda written: self._exported(str(written), len(predictions)))
        task.signals.error.connect(lambda msg: emit(self.failed, "Export failed", f"Could not write {path}:\n{msg}"))
        self._run_task(task)

    def _exported(self, path: str, rows: int) -> None:
        emit(self.message, f"Exported {rows:,} rows to {path}")
        emit(self.exported, path)

    def sort_into(self, destination: str | Path) -> None:
        """Copy the images of the shown rows (errors skipped) into ``destination/<class>/``."""
        items = [(p.path, p.label) for p in self.view.proxy.visible_predictions() if p.ok and p.path]
        task = Task(copy_into_class_folders, items, destination)
        task.signals.result.connect(lambda report: self._sorted(report, str(destination)))
        task.signals.error.connect(lambda msg: emit(self.failed, "Sort into folders failed", msg))
        self._run_task(task)

    def _sorted(self, report: SortReport, destination: str) -> None:
        emit(self.message, f"Copied {len(report.copied):,} images into class folders in {destination}")
        emit(self.sorted, report, destination)


@dataclasses.dataclass
class _EmptyProgress:
    done: int = 0
    total: int | None = 0
    failed: int = 0
    elapsed_s: float = 0.0
    rate: float = 0.0
    eta_s: float | None = None
