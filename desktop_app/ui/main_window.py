"""The main window: model and device choice, single-image view, batch view.

It shows at once and loads the model registry on a worker thread; paths
given before that (``open_paths``) wait and are opened when models are ready.
The work itself lives in small controllers: ``SingleController`` (the image
view), ``BatchController`` (batches, export, sorting) and ``ModelsController``
(registry, dialogs). They share one :class:`~desktop_app.ui.state.AppState`
(model, device, image, scope check) and get the views they need; none of
them holds this window, which only builds the parts and wires actions.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QThreadPool
from PySide6.QtGui import QDesktopServices, QImage
from PySide6.QtWidgets import QApplication, QFileDialog, QMainWindow, QMessageBox, QTabWidget, QWidget

from desktop_app import APP_NAME
from desktop_app.engine.images import IMAGE_SUFFIXES
from desktop_app.engine.sessions import Device
from desktop_app.ui.actions import create_actions
from desktop_app.ui.batch_controller import BatchController, sort_report_text
from desktop_app.ui.batch_view import BatchView
from desktop_app.ui.drop_area import image_from_mime, paths_from_mime
from desktop_app.ui.model_bar import ModelBar
from desktop_app.ui.models_controller import ModelsController
from desktop_app.ui.scope_setting import create_scope_actions
from desktop_app.ui.settings import Settings
from desktop_app.ui.single_controller import SingleController
from desktop_app.ui.single_view import SingleView
from desktop_app.ui.state import AppState
from desktop_app.ui.status import StatusWidgets
from desktop_app.ui.teach_controller import TeachController
from desktop_app.ui.thumbnails import ThumbnailCache
from desktop_app.ui.workers import Task


class MainWindow(QMainWindow):
    def __init__(
        self,
        settings: Settings | None = None,
        model_folders: Sequence[str | Path] | None = None,
        parent: QWidget | None = None,
        *,
        device: str | None = None,
        extra_model_folders: Sequence[str | Path] = (),
    ) -> None:
        """``model_folders`` replaces the usual folders (shipped + remembered); ``extra_model_folders``
        (``--models-dir``) adds to them; ``device`` (``--device``) overrides the remembered one
        for this session without being remembered."""
        super().__init__(parent)
        self.setWindowTitle(APP_NAME)
        self.settings = settings or Settings()
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(max(4, QThreadPool.globalInstance().maxThreadCount()))
        self._tasks: set[Task] = set()
        self._pasted = 0
        self._temp_dir = tempfile.TemporaryDirectory(prefix="image-classifier-")
        self._pending_paths: list[str] | None = None

        self.state = AppState(device or self.settings.device, self)
        self.actions = create_actions(self)
        self.model_bar = ModelBar(self.state, self)
        self.addToolBar(self.model_bar.toolbar(self.actions))
        self.single_view = SingleView(self)
        self.thumbnails = ThumbnailCache(parent=self)
        self.batch_view = BatchView(self.thumbnails, self)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self.single_view, "Image")
        self.tabs.addTab(self.batch_view, "Batch")
        self.setCentralWidget(self.tabs)
        self.status = StatusWidgets(self.statusBar())
        self.batch = BatchController(self.batch_view, self.actions, self.pool, self.run_task, self.state)
        for action in (self.actions.export, self.actions.sort_folders):
            self.batch_view.add_action_button(action)
        self.batch_view.set_cancel_action(self.actions.cancel)
        self.scope_actions = create_scope_actions(self.actions, self.state, self.settings, self)
        self.batch.out_of_scope_action = self.scope_actions.sort_out_of_scope
        self.single = SingleController(self.state, self.single_view, self.status, self.run_task)
        self.prediction_shown = self.single.shown  # the Prediction now on screen in the image view
        self.models = ModelsController(
            self.state,
            self.settings,
            self.model_bar,
            self.single_view,
            self.actions,
            self.pool,
            self.run_task,
            self,
            model_folders,
            extra_model_folders,
        )
        self.teach = TeachController(self.state, self.actions, self.pool, self.run_task, self, self.models.reload)
        self._connect()
        self.setAcceptDrops(True)
        self.setMinimumSize(640, 480)
        self.resize(1100, 720)
        if self.settings.geometry is not None:
            self.restoreGeometry(self.settings.geometry)
        if self.settings.window_state is not None:
            self.restoreState(self.settings.window_state)
        self.models.load()

    # --- plumbing -----------------------------------------------------------------
    def _connect(self) -> None:
        a = self.actions
        a.open_image.triggered.connect(self.open_image_dialog)
        a.open_folder.triggered.connect(self.open_folder_dialog)
        a.paste.triggered.connect(self.paste)
        a.export.triggered.connect(self.export_dialog)
        a.sort_folders.triggered.connect(self.sort_dialog)
        a.cancel.triggered.connect(self.batch.cancel)
        a.quit.triggered.connect(self.close)
        a.compare.triggered.connect(self.show_compare)
        a.model_info.triggered.connect(self.models.show_details)
        a.add_models.triggered.connect(self.models.add_folder_dialog)
        a.show_image.triggered.connect(lambda: self.tabs.setCurrentWidget(self.single_view))
        a.show_batch.triggered.connect(lambda: self.tabs.setCurrentWidget(self.batch_view))
        a.about.triggered.connect(self.show_about)
        a.shortcuts.triggered.connect(self.show_shortcuts)
        a.documentation.triggered.connect(self.open_documentation)
        drop = self.single_view.drop_area
        drop.paths_dropped.connect(self.open_paths)
        drop.image_pasted.connect(self.classify_qimage)
        drop.clicked.connect(self.open_image_dialog)
        self.state.device_changed.connect(self._remember_device)
        self.state.status.connect(lambda text, ms: self.statusBar().showMessage(text, ms))
        self.state.dialog.connect(
            lambda kind, title, text: (self.warn if kind == "warning" else self.inform)(title, text)
        )
        self.models.loaded_signal.connect(self.open_pending)
        # "Correct..." follows the result on screen: the image view's, and the selected batch row's.
        self.single.shown.connect(lambda p: self.teach.set_result("image", p, self.state.model))
        self.batch_view.prediction_selected.connect(lambda p: self.teach.set_result("row", p, self.batch.info))
        self.batch_view.model.modelReset.connect(lambda: self.teach.set_result("row", None, None))
        self.single_view.result.add_action_button(a.correct_image)
        self.batch_view.detail.add_action_button(a.correct_row)
        self.batch.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.batch.failed.connect(self.warn)
        self.batch.sorted.connect(lambda report, dest: self.inform("Sort into folders", sort_report_text(report, dest)))

    def run_task(self, task: Task) -> None:
        """Start ``task`` on the pool, keeping it alive until it has finished."""
        self._tasks.add(task)
        task.signals.finished.connect(lambda t=task: self._tasks.discard(t))
        self.pool.start(task)

    def warn(self, title: str, text: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self)
        box.open()

    def inform(self, title: str, text: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Information, title, text, QMessageBox.StandardButton.Ok, self)
        box.open()

    def device(self) -> Device:
        return Device(self.state.device)

    # --- opening things -----------------------------------------------------------------
    def open_paths(self, paths: Sequence[str]) -> None:
        """One image file -> image view; several files or any folder -> batch."""
        paths = [str(p) for p in paths if str(p)]
        if not paths:
            return
        if not self.models.loaded:
            self._pending_paths = paths
            return
        if len(paths) == 1 and not Path(paths[0]).is_dir():
            self.classify(paths[0])
        else:
            self.tabs.setCurrentWidget(self.batch_view)
            self.batch.start(paths)

    def open_pending(self) -> None:
        if self._pending_paths:
            paths, self._pending_paths = self._pending_paths, None
            self.open_paths(paths)

    def open_image_dialog(self) -> None:
        patterns = " ".join(f"*{s}" for s in sorted(IMAGE_SUFFIXES))
        files, _ = QFileDialog.getOpenFileNames(
            self, "Open images", self.settings.last_dir("image"), f"Images ({patterns});;All files (*)"
        )
        if files:
            self.settings.set_last_dir("image", files[0])
            self.open_paths(files)

    def open_folder_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Classify every image in a folder", self.settings.last_dir("folder")
        )
        if folder:
            self.settings.set_last_dir("folder", folder)
            self.open_paths([folder])

    def paste(self) -> None:
        mime = QApplication.clipboard().mimeData()
        paths = paths_from_mime(mime)
        image = image_from_mime(mime)
        if paths:
            self.open_paths(paths)
        elif image is not None:
            self.classify_qimage(image)
        else:
            self.statusBar().showMessage("The clipboard holds no image and no image files.", 5000)

    def classify_qimage(self, image: QImage) -> None:
        """Save a pasted or dragged image to a temporary PNG and classify that file."""
        self._pasted += 1
        path = Path(self._temp_dir.name) / f"pasted-{self._pasted}.png"
        if not image.save(str(path), "PNG"):
            self.warn("Cannot use this image", "The pasted image could not be saved to a temporary file.")
            return
        self.open_paths([str(path)])

    # --- single image -------------------------------------------------------------------
    @property
    def current_path(self) -> str | None:
        return self.state.image

    @property
    def last_prediction(self) -> Any:
        return self.single.last_prediction

    def classify(self, path: str) -> None:
        """Show ``path`` in the image view and classify it with the current model."""
        self.setWindowTitle(f"{Path(path).name} - {APP_NAME}")
        self.tabs.setCurrentWidget(self.single_view)
        self.single.show_image(path)

    def reclassify(self) -> None:
        """Classify the current image again (after a model or device change)."""
        self.single.classify()

    def _remember_device(self, device: str) -> None:
        self.settings.device = device

    # --- batch --------------------------------------------------------------------------
    def export_dialog(self) -> None:
        start = str(Path(self.settings.last_dir("export")) / "results.csv")
        path, chosen = QFileDialog.getSaveFileName(self, "Export results", start, "CSV (*.csv);;JSON (*.json)")
        if not path:
            return
        if Path(path).suffix.lower() not in (".csv", ".json"):
            path += ".json" if "json" in chosen.lower() else ".csv"
        self.settings.set_last_dir("export", path)
        self.batch.export(path)

    def sort_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Copy the images into class folders inside...", self.settings.last_dir("sort")
        )
        if folder:
            self.settings.set_last_dir("sort", folder)
            self.batch.sort_into(folder)

    # --- dialogs ------------------------------------------------------------------------
    def show_compare(self) -> None:
        self.models.show_compare()

    def show_shortcuts(self) -> None:
        from desktop_app.ui.help_dialog import ShortcutsDialog

        self.shortcuts_dialog = ShortcutsDialog(self.actions, self)
        self.shortcuts_dialog.open()

    def open_documentation(self) -> None:
        from desktop_app.ui.help_dialog import docs_url

        url = docs_url()
        if url is None or not QDesktopServices.openUrl(url):
            self.inform("Documentation", "The user guide is docs/app.md in the project's source (README.md links it).")

    def show_about(self) -> None:
        from desktop_app.ui.about_dialog import AboutDialog

        AboutDialog(self).open()

    # --- window events ------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802, ANN001
        self.single_view.drop_area.dragEnterEvent(event)

    def dropEvent(self, event) -> None:  # noqa: N802, ANN001
        self.single_view.drop_area.dropEvent(event)

    def closeEvent(self, event) -> None:  # noqa: N802, ANN001
        self.settings.geometry = self.saveGeometry()
        self.settings.window_state = self.saveState()
        self.settings.sync()
        self.batch.cancel()
        self.teach.cancel()
        self.thumbnails.clear()
        for task in list(self._tasks):
            # A model load or export ending after this reaches no widget: they may be deleted next.
            task.signals.blockSignals(True)
        # Short waits: a cancelled batch stops within one inference batch; quitting must feel instant.
        self.pool.waitForDone(400)
        self.thumbnails.wait(100)
        self._temp_dir.cleanup()
        super().closeEvent(event)
