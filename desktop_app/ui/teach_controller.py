"""The Models menu's teaching commands and Lobe's "play" loop (Correct -> re-teach in the background).

- **Teach a new model...** opens :class:`~desktop_app.ui.teach_dialog.TeachDialog`;
  the written model is found by a rescan and chosen.
- **Rename / Re-teach with more photos / Delete** act on the chosen model
  when it was taught here (the engine's ``taught_models`` refuses any other file).
- **Correct...** on a taught model's result (image view or a batch row): the
  user picks the right class or types a new one, the photo is copied into that
  class's folder of the model's training set (``training.taught_from``) and the
  model is taught again on a pool thread, with progress in the status bar;
  a rescan then gives the window the new file, so the next result uses it.

Receives the state, the actions, the pool and what it reports through; it
never holds the main window (``dialog_parent`` only parents dialogs).
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, Signal
from PySide6.QtWidgets import QInputDialog, QLineEdit, QMessageBox, QWidget

from desktop_app.engine.taught_models import delete_model, is_taught, rename_model, reteach, user_models_dir
from desktop_app.ui.actions import Actions
from desktop_app.ui.signals import emit
from desktop_app.ui.sorting import free_path, safe_folder_name
from desktop_app.ui.state import AppState
from desktop_app.ui.workers import Task, emit_if_alive

#: Where a result came from: the image view or the selected batch row.
SOURCES = ("image", "row")


def training_folder(info: Any) -> Path | None:
    """The folder a taught model was taught from (None when not recorded or gone)."""
    folder = info.training.get("taught_from") if info is not None else None
    return Path(folder) if folder and Path(folder).is_dir() else None


def add_to_class(photo: str | Path, folder: Path, label: str) -> Path | None:
    """Put ``photo`` into ``folder/<label>/`` of a training set; returns where it went (None: already there).

    A photo from outside the training set is copied (never overwriting: "name (2).jpg");
    one that is already in another class's folder of this set is moved, so it is never
    taught as two classes at once.
    """
    photo = Path(photo).resolve()
    target_dir = folder / safe_folder_name(label)
    if photo.parent == target_dir.resolve():
        return None
    target_dir.mkdir(parents=True, exist_ok=True)
    target = free_path(target_dir / photo.name)
    if photo.parent.parent == folder.resolve():
        shutil.move(photo, target)
    else:
        shutil.copy2(photo, target)
    return target


def progress_line(name: str, progress: Any) -> str:
    if progress.stage == "features":
        return f"Teaching {name} again: photo {progress.done} of {progress.total}…"
    return f"Teaching {name} again: {'learning' if progress.stage == 'fitting' else 'writing the model'}…"


class TeachController(QObject):
    """Teach / rename / re-teach / delete taught models and correct their results."""

    #: A background re-teach finished: the model file's path (the rescan is already asked for).
    retaught = Signal(str)

    def __init__(
        self,
        state: AppState,
        actions: Actions,
        pool: QThreadPool,
        run_task: Callable[[Task], None],
        dialog_parent: QWidget,
        reload_models: Callable[..., None],
        *,
        models_dir: Path | None = None,
        backbone: Path | None = None,
    ) -> None:
        super().__init__(dialog_parent)
        self.state, self.actions, self.pool = state, actions, pool
        self._run_task = run_task
        self._parent = dialog_parent
        self._reload = reload_models
        self.models_dir = models_dir
        self.backbone = backbone
        self.dialog: Any = None  # the open TeachDialog / QInputDialog / QMessageBox (tests reach it here)
        self._results: dict[str, tuple[Any, Any] | None] = dict.fromkeys(SOURCES)
        self._running: dict[str, threading.Event] = {}  # model path -> cancel event of its re-teach
        self._again: set[str] = set()  # corrected while re-teaching: teach once more afterwards
        actions.teach.triggered.connect(self.open_teach_dialog)
        actions.rename_model.triggered.connect(self.rename_dialog)
        actions.reteach_model.triggered.connect(self.reteach_dialog)
        actions.delete_model.triggered.connect(self.delete_dialog)
        actions.correct_image.triggered.connect(lambda: self.correct_dialog("image"))
        actions.correct_row.triggered.connect(lambda: self.correct_dialog("row"))
        state.model_changed.connect(self._model_changed)
        state.image_changed.connect(lambda _path: self.set_result("image", None, None))

    # --- what the commands act on -----------------------------------------------------
    def _model_changed(self, info: Any) -> None:
        taught = info is not None and is_taught(info)
        for action in (self.actions.rename_model, self.actions.reteach_model, self.actions.delete_model):
            action.setEnabled(taught)

    def set_result(self, source: str, prediction: Any, info: Any) -> None:
        """The result now shown in ``source`` ("image" or "row") and the model that made it."""
        usable = prediction is not None and info is not None and not prediction.error and bool(prediction.path)
        self._results[source] = (prediction, info) if usable else None
        action = self.actions.correct_image if source == "image" else self.actions.correct_row
        action.setEnabled(usable and is_taught(info) and training_folder(info) is not None)

    # --- teach, re-teach -------------------------------------------------------------
    def open_teach_dialog(self) -> None:
        self._open_dialog()

    def reteach_dialog(self) -> None:
        info = self.state.model
        if info is None or not is_taught(info):
            return
        self._open_dialog(target=Path(info.path), folder=training_folder(info), name=info.display_name)

    def _open_dialog(self, **kwargs: Any) -> None:
        from desktop_app.ui.teach_dialog import TeachDialog

        dialog = TeachDialog(
            self._parent,
            models_dir=self.models_dir or user_models_dir(),
            backbone=self.backbone,
            pool=self.pool,
            **kwargs,
        )
        dialog.model_taught.connect(lambda path: self._reload(path, also=Path(path).parent))
        self.dialog = dialog
        dialog.open()

    # --- rename, delete ----------------------------------------------------------------
    def rename_dialog(self) -> None:
        info = self.state.model
        if info is None or not is_taught(info):
            return
        dialog = QInputDialog(self._parent)
        dialog.setWindowTitle("Rename taught model")
        dialog.setLabelText(f"New name for {info.display_name}:")
        dialog.setTextEchoMode(QLineEdit.EchoMode.Normal)
        dialog.setTextValue(info.display_name)
        dialog.textValueSelected.connect(lambda name, i=info: self.rename(i, name))
        self.dialog = dialog
        dialog.open()

    def rename(self, info: Any, name: str) -> None:
        if not name.strip() or name.strip() == info.display_name or self._busy_with(info, "Rename taught model"):
            return
        task = Task(rename_model, info.path, name)
        task.signals.result.connect(lambda new: self._reload(new.path))
        task.signals.error.connect(lambda msg: self.state.warn("Rename taught model", msg))
        self._run_task(task)

    def delete_dialog(self) -> None:
        info = self.state.model
        if info is None or not is_taught(info):
            return
        folder = training_folder(info)
        photos = f"\n\nThe photos it was taught from stay in {folder}." if folder else ""
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Delete taught model",
            f"Delete {info.display_name}?\n\nIts file {info.path} is deleted.{photos}",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self._parent,
        )
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.buttonClicked.connect(
            lambda button, i=info: box.standardButton(button) == QMessageBox.StandardButton.Yes and self.delete(i)
        )
        self.dialog = box
        box.open()

    def delete(self, info: Any) -> None:
        if self._busy_with(info, "Delete taught model"):
            return
        task = Task(delete_model, info.path)
        task.signals.result.connect(
            lambda _none: self._reload("") or self.state.show_status(f"Deleted {info.display_name}", 8000)
        )
        task.signals.error.connect(lambda msg: self.state.warn("Delete taught model", msg))
        self._run_task(task)

    def _busy_with(self, info: Any, title: str) -> bool:
        """True (and says so) while ``info`` is being taught again in the background."""
        if str(info.path) not in self._running:
            return False
        self.state.warn(title, f"{info.display_name} is being taught again; try again when it is done.")
        return True

    # --- Correct... and the background re-teach -----------------------------------------
    def correct_dialog(self, source: str) -> None:
        result = self._results.get(source)
        if result is None:
            return
        prediction, info = result
        dialog = QInputDialog(self._parent)
        dialog.setWindowTitle("Correct this result")
        dialog.setLabelText(
            f"{Path(prediction.path).name}: {info.display_name} said {prediction.label}.\n"
            "The right class (choose one, or type a new class):"
        )
        dialog.setComboBoxItems(list(info.labels))
        dialog.setComboBoxEditable(True)
        dialog.setTextValue(prediction.label)
        dialog.textValueSelected.connect(lambda label, p=prediction.path, i=info: self.correct(p, i, label))
        self.dialog = dialog
        dialog.open()

    def correct(self, photo: str, info: Any, label: str) -> None:
        """Put ``photo`` into class ``label`` of ``info``'s training set and teach the model again."""
        label = label.strip()
        folder = training_folder(info)
        if not label or folder is None:
            if folder is None:
                self.state.warn("Correct", f"The photos {info.display_name} was taught from are not found any more.")
            return
        try:
            placed = add_to_class(photo, folder, label)
        except OSError as exc:
            self.state.warn("Correct", f"Could not add {Path(photo).name} to '{label}': {exc.strerror or exc}")
            return
        where = f"'{label}'" if placed is None else f"{placed.parent}"
        self.state.show_status(f"{Path(photo).name} is in {where}; teaching {info.display_name} again…", 0)
        self.reteach_in_background(info)

    def reteach_in_background(self, info: Any) -> None:
        """Teach ``info`` again from its folder on the pool; a second request while it runs queues one more."""
        path = str(info.path)
        if path in self._running:
            self._again.add(path)
            return
        cancel = threading.Event()
        self._running[path] = cancel
        holder: list[Task] = []
        task = Task(
            reteach,
            path,
            backbone=self.backbone,
            cancel=cancel,
            on_progress=lambda p: emit_if_alive(holder[0].signals.progress, p),
        )
        holder.append(task)
        task.signals.progress.connect(lambda p: self.state.show_status(progress_line(info.display_name, p), 0))
        task.signals.result.connect(lambda result: self._retaught(path, result))
        task.signals.error.connect(lambda msg: self._retaught(path, None, msg))
        self._run_task(task)

    def _retaught(self, path: str, result: Any, error: str = "") -> None:
        cancel = self._running.pop(path, None)
        if cancel is not None and cancel.is_set():
            return
        if result is None:
            self._again.discard(path)
            self.state.show_status("", 0)
            self.state.warn("Teaching again failed", error)
            return
        name = result.metadata.get("display_name", Path(path).stem)
        self.state.show_status(
            f"{name} taught again: right on {result.held_out_accuracy:.0%} of {sum(result.counts.values())} "
            "held-out photos",
            10000,
        )
        self._reload(None)  # keeps the chosen model; a re-taught file is read again
        emit(self.retaught, path)
        if path in self._again:
            self._again.discard(path)
            info = self.state.model_by_path(path)
            if info is not None:
                self.reteach_in_background(info)

    @property
    def busy(self) -> bool:
        return bool(self._running)

    def cancel(self) -> None:
        """Stop background re-teaching (the window is closing); nothing half-written is left."""
        for cancel in self._running.values():
            cancel.set()
        if self.dialog is not None and hasattr(self.dialog, "worker") and self.dialog.worker is not None:
            self.dialog.worker.cancel()
