"""Model discovery and choice for the window: load the registry in the background,
fill the dropdown, switch models, add a user's models folder, open the
details and compare dialogs.

A broken or missing model never stops start-up: the engine registry lists
refused files with their reason, and an empty result shows a helpful empty
state instead of an error.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal
from PySide6.QtWidgets import QWidget

from desktop_app.engine.registry import ModelRegistry, find_model_files, shipped_models_dir
from desktop_app.ui.actions import Actions
from desktop_app.ui.drop_area import placeholder_text
from desktop_app.ui.model_bar import ModelBar
from desktop_app.ui.settings import Settings
from desktop_app.ui.signals import emit
from desktop_app.ui.single_view import SingleView
from desktop_app.ui.state import AppState
from desktop_app.ui.text import CIFAR10_LABELS, classes_text, plural
from desktop_app.ui.workers import Task

if TYPE_CHECKING:
    from desktop_app.ui.compare_view import CompareDialog


def folder_report_text(folder: str | Path, added: Sequence[Any], refused: Sequence[tuple[Path, str]]) -> str:
    """What "Add models folder..." found, with the reason for every refused file."""
    lines = [f"Folder: {folder}"]
    if added:
        lines.append(f"Added {plural(len(added), 'model')}: " + ", ".join(info.display_name for info in added))
    else:
        lines.append("No new model was added.")
    if refused:
        lines.append("")
        lines.append(f"{plural(len(refused), 'file')} not following the model contract, not added:")
        lines += [f"  \u2022 {Path(path).name}: {reason}" for path, reason in refused]
        lines.append("")
        lines.append(
            "A model needs one float32 NHWC RGB input (0..255), one [N, C] probability output "
            "and a 'labels' list in its metadata."
        )
    return "\n".join(lines)


def empty_state_text(folders: Sequence[Path]) -> str:
    where = "\n".join(str(f) for f in folders) or "(no folder)"
    return (
        "No models found\n\n"
        f"The app looks for ONNX models in:\n{where}\n\n"
        "Use Models > Add models folder... to add your own,\n"
        "or train and export the CIFAR-10 models (see the README).\n\n"
        f"The CIFAR-10 models know ten classes: {classes_text(CIFAR10_LABELS)};\n"
        "other models may know other classes."
    )


def metadata_cached(folders: Sequence[str | Path]) -> bool:
    """Whether every model file in ``folders`` (a derived model: its base file) is in the engine's
    metadata cache, so that building the registry opens no session."""
    from desktop_app.engine.derived import SUFFIX, base_path
    from desktop_app.engine.model_cache import is_cached

    try:
        files = [f for folder in folders for f in find_model_files(Path(folder).expanduser())]
        return all(is_cached(base_path(f) if f.suffix == SUFFIX else f) for f in files)
    except Exception:  # noqa: BLE001 - an odd manifest: let the background path read (and refuse) it
        return False


class ModelsController(QObject):
    """Loads the registry into ``state.models``, picks the start-up model, opens the model dialogs.

    Receives the state and the views it fills (model bar, image view, actions);
    ``dialog_parent`` only parents the dialogs it opens.
    """

    loaded_signal = Signal()  # the registry is ready (models may be empty)
    folder_added = Signal(list, list)  # added ModelInfos, refused (path, reason)

    def __init__(
        self,
        state: AppState,
        settings: Settings,
        model_bar: ModelBar,
        single_view: SingleView,
        actions: Actions,
        pool: QThreadPool,
        run_task: Callable[[Task], None],
        dialog_parent: QWidget,
        folders: Sequence[str | Path] | None = None,
        extra_folders: Sequence[str | Path] = (),
    ) -> None:
        super().__init__(dialog_parent)
        self.state = state
        self.settings = settings
        self.model_bar = model_bar
        self.view = single_view
        self.actions = actions
        self.pool = pool
        self._run_task = run_task
        self._parent = dialog_parent
        self._explicit_folders = list(folders) if folders is not None else None
        self._extra_folders = [Path(f) for f in extra_folders]
        self.registry: ModelRegistry | None = None
        self.compare_dialog: CompareDialog | None = None
        self._details: Any = None
        state.model_changed.connect(self._model_changed)
        state.image_changed.connect(self._image_changed)

    @property
    def loaded(self) -> bool:
        return self.registry is not None

    @property
    def infos(self) -> list[Any]:
        return self.state.models

    @property
    def current(self) -> Any:
        return self.state.model

    def folders(self) -> list[Path]:
        if self._explicit_folders is not None:
            folders = [Path(f) for f in self._explicit_folders]
        else:
            from desktop_app.engine.taught_models import user_models_dir

            taught = [user_models_dir()] if user_models_dir().is_dir() else []  # taught models survive restarts
            folders = [shipped_models_dir(), *taught, *(Path(f) for f in self.settings.model_folders)]
        return folders + [f for f in self._extra_folders if f not in folders]

    def load(self) -> None:
        """Fill the model list: at once when every model's metadata is in the engine's cache
        (milliseconds), else on a worker (opening each file takes ~0.1 s) while the window shows."""
        folders = self.folders()
        if metadata_cached(folders):  # ModelRegistry never raises for a bad file: it lists it as refused
            self._loaded(ModelRegistry(folders), announce_later=True)
            return
        self.state.show_status("Loading models...", 0)
        self.view.result.show_message("Loading models...", "The window is ready; models load in the background.")
        task = Task(ModelRegistry, self.folders())
        task.signals.result.connect(self._loaded)
        task.signals.error.connect(lambda msg: self._loaded(ModelRegistry([])) or self.state.warn("Models", msg))
        self._run_task(task)

    def _loaded(self, registry: ModelRegistry, *, announce_later: bool = False) -> None:
        """Use ``registry``; ``announce_later`` emits ``loaded_signal`` from the event loop (a load
        during the window's construction: receivers connected after it still hear it)."""
        self.registry = registry
        self._refill(self.settings.model_path)
        refused = registry.refused
        loaded = plural(len(self.infos), "model") + " loaded"
        if refused:
            self.model_bar.set_refused(refused)
            self.state.show_status(
                f"{loaded}; {plural(len(refused), 'file')} refused (hover over the model list for the reasons)", 15000
            )
        else:
            self.state.show_status(loaded, 5000)
        if announce_later:
            QTimer.singleShot(0, lambda: emit(self.loaded_signal))
        else:
            emit(self.loaded_signal)

    def reload(self, select: str | Path | None = None, *, also: str | Path | None = None) -> None:
        """Rescan every folder (plus ``also``) in the background, as files changed on disk
        (a model taught, re-taught, renamed or deleted), then choose ``select`` (else the current model)."""
        if self.registry is None:
            return
        folders = self.registry.folders
        if also is not None and Path(also).resolve() not in folders:
            folders.append(Path(also))
        preferred = str(select) if select is not None else (str(self.current.path) if self.current else "")
        task = Task(ModelRegistry, folders)
        task.signals.result.connect(lambda registry: self._reloaded(registry, preferred))
        task.signals.error.connect(lambda msg: self.state.warn("Models", msg))
        self._run_task(task)

    def _reloaded(self, registry: ModelRegistry, preferred: str) -> None:
        self.registry = registry
        self._refill(preferred)

    def _refill(self, preferred: str) -> None:
        assert self.registry is not None
        if self.compare_dialog is not None:
            self.compare_dialog.deleteLater()
            self.compare_dialog = None
        self.state.set_models(self.registry.models)
        if not self.infos:
            self.view.drop_area.set_message(empty_state_text(self.registry.folders))
            self.view.result.show_message("No model", "Add a models folder (Models menu) to start.")
            self.actions.model_info.setEnabled(False)
            self.actions.compare.setEnabled(False)
            return
        info = self.state.model_by_path(preferred)
        if info is None:  # first start, or that file is gone
            info = self.registry.default_model() or self.infos[0]
        self.state.set_model(info)

    def _model_changed(self, info: Any) -> None:
        if info is None:
            return
        self.settings.model_path = str(info.path)
        self.actions.model_info.setEnabled(True)
        self.actions.compare.setEnabled(self.state.image is not None)
        drop = self.view.drop_area
        if drop.image() is None and self.state.image is None:
            drop.set_message(placeholder_text(info.labels))
            self.view.result.show_message(info.display_name, "Drop an image to classify it.")

    def _image_changed(self, path: str | None) -> None:
        self.actions.compare.setEnabled(path is not None and bool(self.infos))
        compare = self.compare_dialog
        if path is not None and compare is not None and compare.isVisible():
            compare.set_image(path, self.state.engine_device())

    # --- user actions -------------------------------------------------------------
    def add_folder_dialog(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        folder = QFileDialog.getExistingDirectory(
            self._parent, "Add a folder of ONNX models", self.settings.last_dir("models")
        )
        if folder:
            self.settings.set_last_dir("models", folder)
            self.add_folder(folder, show_report=True)

    def add_folder(self, folder: str | Path, *, show_report: bool = False) -> None:
        """Scan ``folder`` for models in the background; remember it for next time."""
        if self.registry is None:
            return
        task = Task(self.registry.add_folder, folder)
        task.signals.result.connect(lambda result: self._folder_added(str(folder), *result, show_report=show_report))
        task.signals.error.connect(lambda msg: self.state.warn("Add models folder", msg))
        self._run_task(task)

    def _folder_added(self, folder: str, added: list, refused: list, *, show_report: bool) -> None:
        if self._explicit_folders is not None:
            self._explicit_folders.append(folder)
        self.settings.model_folders = [*self.settings.model_folders, str(Path(folder).resolve())]
        current = str(self.current.path) if self.current is not None else ""
        self._refill(str(added[0].path) if added else current)
        if show_report:
            text = folder_report_text(folder, added, refused)
            (self.state.warn if refused else self.state.inform)("Add models folder", text)
        emit(self.folder_added, added, refused)

    def show_details(self) -> None:
        if self.current is None:
            return
        from desktop_app.ui.model_dialog import ModelDialog

        self._details = ModelDialog(self.current, self._parent)
        self._details.show()

    def show_compare(self, path: str | None = None, device: Any = None) -> None:
        """Compare every model on ``path`` (default: the current image)."""
        path = path or self.state.image
        if not self.infos or path is None:
            return
        device = device if device is not None else self.state.engine_device()
        if self.compare_dialog is None:
            from desktop_app.ui.compare_view import CompareDialog

            self.compare_dialog = CompareDialog(self.infos, device, self.pool, self._parent)
        self.compare_dialog.set_image(path, device, scope_check=self.state.scope_check)
        self.compare_dialog.show()
        self.compare_dialog.raise_()
