""" "Teach a new model...": choose a folder of class subfolders, name it, teach, see how it did.

Three steps in one dialog: the classes found (photo counts and a few
thumbnails each), teaching (progress bar, Cancel) on a ``QThreadPool``
worker running :func:`desktop_app.engine.teach.teach`, and a summary
(held-out accuracy, recall per class, the held-out photos it got wrong as
thumbnails). :attr:`TeachDialog.model_taught` carries the written file's
path; the window selects it. ``target`` re-teaches an existing taught model
in place (same file and name).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QSize, Qt, QThreadPool, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.engine.taught_models import file_name_for, free_model_path, user_models_dir
from desktop_app.engine.teach import TeachError, TeachSet, scan_folder
from desktop_app.ui.qt_images import read_qimage
from desktop_app.ui.signals import emit
from desktop_app.ui.workers import emit_if_alive

THUMBS_PER_CLASS = 4
THUMB_SIDE = 56


class _TeachSignals(QObject):
    progress = Signal(object)
    done = Signal(object)
    failed = Signal(str)
    cancelled = Signal()


class TeachWorker(QRunnable):
    """Runs :func:`~desktop_app.engine.teach.teach` off the GUI thread; ``cancel()`` stops it."""

    def __init__(self, plan: TeachSet, out: Path, name: str, backbone: Path | None) -> None:
        super().__init__()
        self.signals = _TeachSignals()
        self.cancel_event = threading.Event()
        self._args = (plan, out, name, backbone)

    def cancel(self) -> None:
        self.cancel_event.set()

    def run(self) -> None:
        from desktop_app.engine.teach import teach
        from desktop_app.engine.teach_head import Cancelled

        plan, out, name, backbone = self._args
        try:
            result = teach(
                plan,
                out,
                name=name,
                backbone=backbone,
                cancel=self.cancel_event,
                on_progress=lambda p: emit_if_alive(self.signals.progress, p),
            )
        except Cancelled:
            emit_if_alive(self.signals.cancelled)
        except Exception as exc:  # noqa: BLE001 - every failure reaches the user as a message
            emit_if_alive(self.signals.failed, str(exc) or type(exc).__name__)
        else:
            emit_if_alive(self.signals.done, result)


def _thumbnail(path: Path, side: int = THUMB_SIDE) -> QPixmap:
    image = read_qimage(path, side)
    return QPixmap.fromImage(image) if not image.isNull() else QPixmap()


def progress_text(progress: Any) -> str:
    """One line for the progress label."""
    if progress.stage == "features":
        return f"Looking at photo {progress.done} of {progress.total}…"
    if progress.stage == "fitting":
        return "Learning the classes and checking on held-out photos…"
    return "Writing the model…"


class TeachDialog(QDialog):
    """Choose folder -> Teach (progress, Cancel) -> summary; emits :attr:`model_taught`."""

    model_taught = Signal(str)

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        models_dir: Path | None = None,
        backbone: Path | None = None,
        target: Path | None = None,
        folder: Path | None = None,
        name: str = "",
        pool: QThreadPool | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Re-teach model" if target else "Teach a new model")
        self.models_dir = models_dir or user_models_dir()
        self.backbone, self.target = backbone, target
        self.pool = pool or QThreadPool.globalInstance()
        self.plan: TeachSet | None = None
        self.worker: TeachWorker | None = None
        self.result: Any = None

        self.folder_edit = QLineEdit(readOnly=True, placeholderText="A folder with one subfolder of photos per class")
        browse = QPushButton("Choose folder…")
        browse.clicked.connect(self._browse)
        self.problem = QLabel(wordWrap=True)
        self.classes = QTableWidget(0, 3)
        self.classes.setHorizontalHeaderLabels(["Class", "Photos", "Some of them"])
        self.classes.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.classes.verticalHeader().setVisible(False)
        self.classes.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.name_edit = QLineEdit(name, placeholderText="Name of the new model")
        self.name_edit.setEnabled(target is None)
        self.teach_button = QPushButton("Teach")
        self.teach_button.setDefault(True)
        self.teach_button.clicked.connect(self.start)

        choose = QWidget()
        row = QHBoxLayout()
        row.addWidget(self.folder_edit, 1)
        row.addWidget(browse)
        name_row = QHBoxLayout()
        name_row.addWidget(QLabel("Name:"))
        name_row.addWidget(self.name_edit, 1)
        name_row.addWidget(self.teach_button)
        layout = QVBoxLayout(choose)
        layout.addLayout(row)
        layout.addWidget(self.problem)
        layout.addWidget(self.classes, 1)
        layout.addLayout(name_row)

        working = QWidget()
        self.progress = QProgressBar()
        self.progress_label = QLabel("Starting…")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        layout = QVBoxLayout(working)
        layout.addStretch(1)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.progress)
        layout.addWidget(self.cancel_button, 0, Qt.AlignmentFlag.AlignRight)
        layout.addStretch(1)

        summary = QWidget()
        self.accuracy_label = QLabel(wordWrap=True)
        self.recall = QTableWidget(0, 2)
        self.recall.setHorizontalHeaderLabels(["Class", "Recognised (held out)"])
        self.recall.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.recall.verticalHeader().setVisible(False)
        self.recall.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.mistakes_label = QLabel()
        self.mistakes = QListWidget()
        self.mistakes.setViewMode(QListWidget.ViewMode.IconMode)
        self.mistakes.setIconSize(QSize(2 * THUMB_SIDE, 2 * THUMB_SIDE))
        self.mistakes.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.notes = QLabel(wordWrap=True)
        layout = QVBoxLayout(summary)
        layout.addWidget(self.accuracy_label)
        layout.addWidget(self.recall, 1)
        layout.addWidget(self.mistakes_label)
        layout.addWidget(self.mistakes, 1)
        layout.addWidget(self.notes)

        self.pages = QStackedWidget()
        for page in (choose, working, summary):
            self.pages.addWidget(page)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.buttons.rejected.connect(self.reject)
        outer = QVBoxLayout(self)
        outer.addWidget(self.pages, 1)
        outer.addWidget(self.buttons)
        self.resize(640, 520)
        self.teach_button.setEnabled(False)
        if folder is not None:
            self.set_folder(folder)

    # -- step 1: the folder ---------------------------------------------------------------
    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder with one subfolder per class")
        if folder:
            self.set_folder(Path(folder))

    def set_folder(self, folder: Path) -> None:
        """Scan ``folder`` and show its classes (names only are read; thumbnails are small)."""
        self.folder_edit.setText(str(folder))
        self.classes.setRowCount(0)
        try:
            self.plan = scan_folder(folder)
        except TeachError as exc:
            self.plan = None
            self.problem.setText(str(exc))
            self.teach_button.setEnabled(False)
            return
        self.problem.setText("\n".join(self.plan.warnings))
        self.classes.setRowCount(len(self.plan.classes))
        self.classes.setIconSize(QSize(THUMB_SIDE, THUMB_SIDE))
        for row, cls in enumerate(self.plan.classes):
            self.classes.setItem(row, 0, QTableWidgetItem(cls.name))
            self.classes.setItem(row, 1, QTableWidgetItem(str(len(cls.paths))))
            self.classes.setCellWidget(row, 2, self._thumb_strip(cls.paths[:THUMBS_PER_CLASS]))
            self.classes.setRowHeight(row, THUMB_SIDE + 8)
        if not self.name_edit.text():
            self.name_edit.setText(folder.name)
        self.teach_button.setEnabled(True)

    @staticmethod
    def _thumb_strip(paths: list[Path]) -> QWidget:
        strip = QWidget()
        layout = QHBoxLayout(strip)
        layout.setContentsMargins(2, 2, 2, 2)
        for path in paths:
            label = QLabel()
            label.setPixmap(_thumbnail(path))
            label.setToolTip(path.name)
            layout.addWidget(label)
        layout.addStretch(1)
        return strip

    # -- step 2: teaching -----------------------------------------------------------------
    def output_path(self) -> Path:
        """Where the model goes: the re-taught file, or a free name in the models folder."""
        if self.target is not None:
            return self.target
        return free_model_path(self.models_dir, file_name_for(self.name_edit.text() or "taught model"))

    def start(self) -> None:
        if self.plan is None or self.worker is not None:
            return
        name = self.name_edit.text().strip() or self.plan.folder.name
        self.worker = TeachWorker(self.plan, self.output_path(), name, self.backbone)
        self.worker.signals.progress.connect(self._on_progress)
        self.worker.signals.done.connect(self._on_done)
        self.worker.signals.failed.connect(self._on_failed)
        self.worker.signals.cancelled.connect(self._on_cancelled)
        self.progress.setRange(0, self.plan.photo_count)
        self.progress.setValue(0)
        self.progress_label.setText("Starting…")
        self.cancel_button.setEnabled(True)
        self.pages.setCurrentIndex(1)
        self.pool.start(self.worker)

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            self.cancel_button.setEnabled(False)
            self.progress_label.setText("Cancelling…")

    def _on_progress(self, progress: Any) -> None:
        if progress.stage == "features":
            self.progress.setRange(0, progress.total)
            self.progress.setValue(progress.done)
        else:
            self.progress.setRange(0, 0)  # busy
        if self.cancel_button.isEnabled():
            self.progress_label.setText(progress_text(progress))

    def _on_cancelled(self) -> None:
        self.worker = None
        self.pages.setCurrentIndex(0)
        self.problem.setText("Teaching was cancelled; nothing was written.")

    def _on_failed(self, message: str) -> None:
        self.worker = None
        self.pages.setCurrentIndex(0)
        self.problem.setText(f"Teaching failed: {message}")

    # -- step 3: summary ------------------------------------------------------------------
    def _on_done(self, result: Any) -> None:
        self.worker = None
        self.result = result
        photos = sum(result.counts.values())
        self.accuracy_label.setText(
            f"<b>{result.metadata['display_name']}</b> is ready: right on {result.held_out_accuracy:.0%} of "
            f"{photos} photos it had not seen (each held out while it learned from the others)."
        )
        self.recall.setRowCount(len(result.labels))
        for row, label in enumerate(result.labels):
            self.recall.setItem(row, 0, QTableWidgetItem(f"{label} ({result.counts[label]} photos)"))
            self.recall.setItem(row, 1, QTableWidgetItem(f"{result.per_class_recall[label]:.0%}"))
        self.mistakes.clear()
        for path, truth, guess in result.misclassified:
            item = QListWidgetItem(QIcon(_thumbnail(path, 2 * THUMB_SIDE)), f"{truth} → {guess}")
            item.setToolTip(str(path))
            self.mistakes.addItem(item)
        count = len(result.misclassified)
        self.mistakes_label.setText(
            "No held-out photo was mistaken."
            if not count
            else f"{count} held-out photo(s) it got wrong (class → its answer):"
        )
        notes = [f"Saved as {result.path}"]
        if result.skipped:
            notes.append(
                f"{len(result.skipped)} file(s) skipped: " + "; ".join(f"{p.name} ({r})" for p, r in result.skipped[:5])
            )
        self.notes.setText("\n".join(notes))
        self.pages.setCurrentIndex(2)
        emit(self.model_taught, str(result.path))

    def reject(self) -> None:
        """Closing while teaching cancels it (nothing is written)."""
        if self.worker is not None:
            self.worker.cancel()
        super().reject()
