"""Runs batches for the window: start, stream results into the table, cancel, export, sort.

A QObject so that it can own signals the tests wait on (``finished``,
``exported``, ``sorted``); all file work runs on the window's thread pool.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, Signal
from PySide6.QtGui import QAction, QImage

from desktop_app.engine.batch import Progress
from desktop_app.ui.actions import Actions
from desktop_app.ui.batch_view import BatchView
from desktop_app.ui.qt_images import read_qimage
from desktop_app.ui.results_table import out_of_scope
from desktop_app.ui.scope_setting import OUT_OF_SCOPE_FOLDER
from desktop_app.ui.signals import emit
from desktop_app.ui.sorting import UNSURE_FOLDER, SortReport, copy_into_class_folders
from desktop_app.ui.state import AppState
from desktop_app.ui.text import plural
from desktop_app.ui.workers import BatchWorker, Task

DETAIL_PREVIEW_SIDE = 800


def sort_report_text(report: SortReport, destination: str | Path) -> str:
    """What "Sort into folders" did, in a few lines."""
    classes = report.per_class
    lines = [f"Copied {plural(len(report.copied), 'image')} into {plural(len(classes), 'folder')} in {destination}."]
    if classes:
        lines.append(", ".join(f"{name}: {n:,}" for name, n in sorted(classes.items())))
    if report.renamed:
        lines.append(f"{plural(report.renamed, 'copy', 'copies')} got a new name: a file with that name was there.")
    if report.failed:
        lines.append(f"{plural(len(report.failed), 'image')} could not be copied:")
        lines += [f"  {src.name}: {why}" for src, why in report.failed[:20]]
    lines.append("The original files were not moved or changed.")
    return "\n".join(lines)


class BatchController(QObject):
    finished = Signal()  # a batch ended (done, cancelled or failed)
    exported = Signal(str)  # path written
    sorted = Signal(object, str)  # SortReport, destination folder
    message = Signal(str)  # short status-bar text
    failed = Signal(str, str)  # title, text for a warning dialog

    def __init__(
        self,
        view: BatchView,
        actions: Actions,
        pool: QThreadPool,
        run_task: Callable[..., None],
        state: AppState | None = None,
    ) -> None:
        super().__init__(view)
        self.state = state
        self.view = view
        self.actions = actions
        self.pool = pool
        self._run_task = run_task
        self.worker: BatchWorker | None = None
        self.info: Any = None
        self._last_progress: Any = None
        self._preview_generation = 0
        self._paths: list[str] = []
        self.device: Any = None
        self.scope_check = False  # whether the last batch ran with the scope check
        self.out_of_scope_action: QAction | None = None  # File > Put out-of-scope results in _out_of_scope
        view.prediction_selected.connect(self._load_detail_preview)
        view.rerun_requested.connect(self.rerun)
        if state is not None:
            state.model_changed.connect(self._offer_rerun)
            state.device_changed.connect(lambda _device: self._offer_rerun(state.model))
            state.scope_check_changed.connect(lambda _on: self._offer_rerun(state.model))

    @property
    def running(self) -> bool:
        return self.worker is not None

    def start(self, paths: Sequence[str], info: Any = None, device: Any = None) -> None:
        """Classify ``paths`` (files and folders) with ``info`` (default: the state's model and
        device); replaces the table's rows."""
        if info is None and self.state is not None:
            info, device = self.state.model, self.state.engine_device()
        if info is None:
            emit(self.failed, "No model", "There is no model to classify with. Add a models folder (Models menu).")
            return
        if self.worker is not None:
            self.worker.cancel()  # its late signals are ignored: they name another worker
        self.info, self.device, self._paths = info, device, [str(p) for p in paths]
        self._last_progress = None
        self.view.set_labels(info.labels)
        self.view.set_roots(self._paths)
        self.view.set_source(info.display_name, _device_text(device))
        self.view.start()
        models, scope_check = (self.state.models, self.state.scope_check) if self.state is not None else ((), False)
        self.scope_check = scope_check
        worker = BatchWorker(paths, info, device, models=models, scope_check=scope_check)
        worker.signals.result.connect(lambda preds, w=worker: w is self.worker and self.view.add_predictions(preds))
        worker.signals.progress.connect(lambda p, w=worker: self._progress(w, p))
        worker.signals.error.connect(lambda msg, w=worker: w is self.worker and emit(self.failed, "Batch stopped", msg))
        worker.signals.finished.connect(lambda w=worker: self._finished(w))
        self.worker = worker
        self._update_actions()
        emit(self.message, f"Classifying {_items_text(self._paths)} with {info.display_name}...")
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
        outside = self.view.model.out_of_scope_count()
        last = self._last_progress
        if last is not None:
            final = dataclasses.replace(last, done=rows, failed=errors)
            self.view.show_progress(final, finished=True, cancelled=worker.cancelled)
        else:
            self.view.show_progress(Progress(total=0), finished=True, cancelled=worker.cancelled)
        state = "cancelled" if worker.cancelled else "finished"
        emit(
            self.message,
            f"Batch {state}: {plural(rows, 'image')}, {unsure:,} unsure, "
            + (f"{outside:,} out of scope, " if outside else "")
            + plural(errors, "error")
            if rows
            else "No images found in what was dropped.",
        )
        self._update_actions()
        emit(self.finished)

    def rerun(self) -> None:
        """Classify the last batch's paths again with the state's model and device."""
        if self._paths and self.worker is None:
            self.start(self._paths)

    def _offer_rerun(self, info: Any) -> None:
        """After a finished batch, a model (or device) change offers to classify the folder again."""
        if self.worker is not None or self.info is None or info is None or not self.view.model.rowCount():
            return
        same = (
            info is self.info
            and self.state is not None
            and self.state.engine_device() == self.device
            and self.state.scope_check == self.scope_check
        )
        self.view.show_rerun_offer(None if same else info.display_name)

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
        """Write the rows the table shows (filter and order included) to CSV or JSON; a target the
        engine refuses (a folder, a device, one of the batch's own images ...) gets its message."""
        from desktop_app.engine.results import OutputTargetError, check_output_target, write_results

        try:
            check_output_target(path, self._paths)
        except OutputTargetError as exc:
            emit(self.failed, "Export refused", str(exc))
            return
        predictions = self.view.proxy.visible_predictions()
        model = self.info.display_name
        task = Task(write_results, str(path), predictions, list(self.info.labels), top_k=3, model=model)
        task.signals.result.connect(lambda written: self._exported(str(written), len(predictions)))
        task.signals.error.connect(lambda msg: emit(self.failed, "Export failed", f"Could not write {path}:\n{msg}"))
        self._run_task(task)

    def _exported(self, path: str, rows: int) -> None:
        emit(self.message, f"Exported {rows:,} rows to {path}")
        emit(self.exported, path)

    def sort_into(
        self, destination: str | Path, *, unsure_folder: bool | None = None, out_of_scope_folder: bool | None = None
    ) -> None:
        """Copy the images of the shown rows (errors skipped) into ``destination/<class>/``;
        with ``unsure_folder`` (default: the File menu option) unsure ones go to ``_unsure/``, with
        ``out_of_scope_folder`` (default: the File menu option) out-of-scope ones to ``_out_of_scope/``."""
        if unsure_folder is None:
            unsure_folder = self.actions.sort_unsure.isChecked()
        if out_of_scope_folder is None:
            action = self.out_of_scope_action
            out_of_scope_folder = action is not None and action.isChecked()

        def folder(p: Any) -> str:
            if out_of_scope_folder and out_of_scope(p):
                return OUT_OF_SCOPE_FOLDER
            return UNSURE_FOLDER if unsure_folder and p.unsure else p.label

        items = [(p.path, folder(p)) for p in self.view.proxy.visible_predictions() if p.ok and p.path]
        task = Task(copy_into_class_folders, items, destination)
        task.signals.result.connect(lambda report: self._sorted(report, str(destination)))
        task.signals.error.connect(lambda msg: emit(self.failed, "Sort into folders failed", msg))
        self._run_task(task)

    def _sorted(self, report: SortReport, destination: str) -> None:
        emit(self.message, f"Copied {len(report.copied):,} images into class folders in {destination}")
        emit(self.sorted, report, destination)


def _device_text(device: Any) -> str:
    value = getattr(device, "value", device) or "auto"
    return {"auto": "Auto device", "cpu": "CPU", "cuda": "CUDA"}.get(str(value), str(value))


def _items_text(paths: Sequence[str]) -> str:
    """ "1 folder", "3 files", "2 folders and 1 file"."""
    folders = sum(1 for p in paths if Path(p).is_dir())
    files = len(paths) - folders
    parts = [plural(folders, "folder")] if folders else []
    if files or not folders:
        parts.append(plural(files, "file"))
    return " and ".join(parts)
