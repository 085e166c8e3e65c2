"""Model discovery and choice for the window: load the registry in the background,
fill the dropdown, switch models, add a user's models folder, open the
details and compare dialogs.

A broken or missing model never stops start-up: the engine registry lists
refused files with their reason, and an empty result shows a helpful empty
state instead of an error.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from PySide6.QtCore import QObject, Signal

from desktop_app.engine.registry import ModelRegistry, shipped_models_dir
from desktop_app.ui.signals import emit
from desktop_app.ui.workers import Task

if TYPE_CHECKING:
    from desktop_app.ui.compare_view import CompareDialog
    from desktop_app.ui.main_window import MainWindow


def folder_report_text(folder: str | Path, added: Sequence[Any], refused: Sequence[tuple[Path, str]]) -> str:
    """What "Add models folder..." found, with the reason for every refused file."""
    lines = [f"Folder: {folder}"]
    if added:
        lines.append(f"Added {len(added)} model(s): " + ", ".join(info.display_name for info in added))
    else:
        lines.append("No new model was added.")
    if refused:
        lines.append("")
        lines.append(f"{len(refused)} file(s) do not follow the model contract and were not added:")
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
        "or train and export the CIFAR-10 models (see the README)."
    )


class ModelsController(QObject):
    loaded_signal = Signal()  # the registry is ready (models may be empty)
    folder_added = Signal(list, list)  # added ModelInfos, refused (path, reason)

    def __init__(self, window: MainWindow, folders: Sequence[str | Path] | None) -> None:
        super().__init__(window)
        self.window = window
        self._explicit_folders = list(folders) if folders is not None else None
        self.registry: ModelRegistry | None = None
        self.infos: list[Any] = []
        self.current: Any = None
        self.compare_dialog: CompareDialog | None = None
        self._details: Any = None

    @property
    def loaded(self) -> bool:
        return self.registry is not None

    def folders(self) -> list[Path]:
        if self._explicit_folders is not None:
            return [Path(f) for f in self._explicit_folders]
        return [shipped_models_dir(), *(Path(f) for f in self.window.settings.model_folders)]

    def load(self) -> None:
        self.window.statusBar().showMessage("Loading models...")
        self.window.single_view.result.show_message(
            "Loading models...", "The window is ready; models load in the background."
        )
        task = Task(ModelRegistry, self.folders())
        task.signals.result.connect(self._loaded)
        task.signals.error.connect(lambda msg: self._loaded(ModelRegistry([])) or self.window.warn("Models", msg))
        self.window.run_task(task)

    def _loaded(self, registry: ModelRegistry) -> None:
        self.registry = registry
        self._refill(self.window.settings.model_path)
        refused = registry.refused
        if refused:
            self.window.model_bar.model_combo.setToolTip(
                "Refused model files:\n" + "\n".join(f"{p.name}: {why}" for p, why in refused)
            )
            self.window.statusBar().showMessage(
                f"{len(self.infos)} model(s) loaded; {len(refused)} file(s) refused "
                "(hover over the model list for the reasons)",
                15000,
            )
        else:
            self.window.statusBar().showMessage(f"{len(self.infos)} model(s) loaded", 5000)
        emit(self.loaded_signal)
        self.window.open_pending()

    def _refill(self, preferred: str) -> None:
        assert self.registry is not None
        self.infos = self.registry.models
        if self.compare_dialog is not None:
            self.compare_dialog.deleteLater()
            self.compare_dialog = None
        if not self.infos:
            self.current = None
            self.window.single_view.drop_area.set_message(empty_state_text(self.registry.folders))
            self.window.single_view.result.show_message("No model", "Add a models folder (Models menu) to start.")
            self.window.actions.model_info.setEnabled(False)
            self.window.actions.compare.setEnabled(False)
        if preferred not in {str(info.path) for info in self.infos}:  # first start, or that file is gone
            best = self.registry.most_accurate()
            preferred = str(best.path) if best is not None else ""
        self.window.model_bar.set_models(self.infos, preferred)  # emits model_changed -> select()

    def select(self, path: str) -> None:
        """The user (or start-up) chose the model stored at ``path``."""
        info = next((i for i in self.infos if str(i.path) == path), None)
        if info is None:
            return
        self.current = info
        self.window.settings.model_path = path
        self.window.actions.model_info.setEnabled(True)
        self.window.actions.compare.setEnabled(self.window.current_path is not None)
        drop = self.window.single_view.drop_area
        if drop.image() is None and self.window.current_path is None:
            from desktop_app.ui.drop_area import PLACEHOLDER

            drop.set_message(PLACEHOLDER)
            self.window.single_view.result.show_message(info.display_name, "Drop an image to classify it.")
        if self.window.current_path:
            self.window.reclassify()
        else:
            self.prepare()

    def prepare(self) -> None:
        """Open the current model's session in the background so the first image is quick."""
        if self.current is None:
            return
        from desktop_app.engine.classifier import get_classifier

        task = Task(get_classifier, self.current, self.window.device())
        task.signals.result.connect(lambda classifier: self.window.status.show_report(classifier.report, None))
        task.signals.error.connect(
            lambda msg: self.window.statusBar().showMessage(f"The model failed to load: {msg}", 10000)
        )
        self.window.run_task(task)

    # --- user actions -------------------------------------------------------------
    def add_folder_dialog(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        folder = QFileDialog.getExistingDirectory(
            self.window, "Add a folder of ONNX models", self.window.settings.last_dir("models")
        )
        if folder:
            self.window.settings.set_last_dir("models", folder)
            self.add_folder(folder, show_report=True)

    def add_folder(self, folder: str | Path, *, show_report: bool = False) -> None:
        """Scan ``folder`` for models in the background; remember it for next time."""
        if self.registry is None:
            return
        task = Task(self.registry.add_folder, folder)
        task.signals.result.connect(lambda result: self._folder_added(str(folder), *result, show_report=show_report))
        task.signals.error.connect(lambda msg: self.window.warn("Add models folder", msg))
        self.window.run_task(task)

    def _folder_added(self, folder: str, added: list, refused: list, *, show_report: bool) -> None:
        if self._explicit_folders is not None:
            self._explicit_folders.append(folder)
        settings = self.window.settings
        settings.model_folders = [*settings.model_folders, str(Path(folder).resolve())]
        current = str(self.current.path) if self.current is not None else ""
        self._refill(str(added[0].path) if added else current)
        if show_report:
            text = folder_report_text(folder, added, refused)
            (self.window.warn if refused else self.window.inform)("Add models folder", text)
        emit(self.folder_added, added, refused)

    def show_details(self) -> None:
        if self.current is None:
            return
        from desktop_app.ui.model_dialog import ModelDialog

        self._details = ModelDialog(self.current, self.window)
        self._details.show()

    def show_compare(self, path: str, device: Any) -> None:
        if not self.infos:
            return
        if self.compare_dialog is None:
            from desktop_app.ui.compare_view import CompareDialog

            self.compare_dialog = CompareDialog(self.infos, device, self.window.pool, self.window)
        self.compare_dialog.set_image(path, device)
        self.compare_dialog.show()
        self.compare_dialog.raise_()
