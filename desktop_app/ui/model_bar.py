"""The tool bar: open buttons, the model dropdown (name + test accuracy), details, compare, device."""

from __future__ import annotations

from typing import Any, Sequence

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QComboBox, QLabel, QSizePolicy, QToolBar, QWidget

from desktop_app.ui.actions import Actions
from desktop_app.ui.compare_view import model_title
from desktop_app.ui.signals import emit

DEVICES = (
    ("Auto", "auto", "CUDA when available, else the CPU"),
    ("CPU", "cpu", "Always the CPU"),
    ("CUDA", "cuda", "NVIDIA GPU (falls back to the CPU, with a notice, when unavailable)"),
)


class ModelBar(QObject):
    """Owns the model and device dropdowns; emits the user's choices."""

    model_changed = Signal(str)  # model file path
    device_changed = Signal(str)  # "auto" / "cpu" / "cuda"

    def __init__(self, device: str, parent: QWidget) -> None:
        super().__init__(parent)
        self.model_combo = QComboBox(parent)
        self.model_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.model_combo.setMinimumContentsLength(24)
        self.model_combo.setToolTip("The model that classifies the images; switching re-classifies the current image")
        self.model_combo.setAccessibleName("Model")
        self.model_combo.addItem("Loading models...")
        self.model_combo.setEnabled(False)
        self.model_combo.currentIndexChanged.connect(self._model_index_changed)
        self.device_combo = QComboBox(parent)
        for i, (text, value, tip) in enumerate(DEVICES):
            self.device_combo.addItem(text, value)
            self.device_combo.setItemData(i, tip, Qt.ItemDataRole.ToolTipRole)
        self.device_combo.setToolTip("Where the models run: Auto, CPU or CUDA (NVIDIA GPU)")
        self.device_combo.setAccessibleName("Device")
        index = self.device_combo.findData(device)
        self.device_combo.setCurrentIndex(max(0, index))
        self.device_combo.currentIndexChanged.connect(lambda: emit(self.device_changed, self.device()))

    def toolbar(self, actions: Actions) -> QToolBar:
        parent = self.parent()
        bar = QToolBar("Main tool bar", parent)  # type: ignore[arg-type]
        bar.setObjectName("main_toolbar")  # saveState() needs a name
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        bar.addAction(actions.open_image)
        bar.addAction(actions.open_folder)
        bar.addSeparator()
        bar.addWidget(QLabel(" &Model: ", parent, buddy=self.model_combo))  # type: ignore[arg-type]
        bar.addWidget(self.model_combo)
        bar.addAction(actions.model_info)
        bar.addAction(actions.compare)
        spacer = QWidget(parent)  # type: ignore[arg-type]
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        bar.addWidget(spacer)
        bar.addWidget(QLabel(" &Device: ", parent, buddy=self.device_combo))  # type: ignore[arg-type]
        bar.addWidget(self.device_combo)
        return bar

    def set_models(self, infos: Sequence[Any], preferred_path: str = "") -> None:
        """Fill the dropdown and select ``preferred_path`` (else the first model); emits model_changed."""
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        for info in infos:
            self.model_combo.addItem(model_title(info), str(info.path))
            self.model_combo.setItemData(
                self.model_combo.count() - 1, info.description or str(info.path), Qt.ItemDataRole.ToolTipRole
            )
        self.model_combo.setEnabled(bool(infos))
        if not infos:
            self.model_combo.addItem("No models found")
        index = self.model_combo.findData(preferred_path) if preferred_path else -1
        self.model_combo.setCurrentIndex(index if index >= 0 else 0)
        self.model_combo.blockSignals(False)
        if infos:
            emit(self.model_changed, self.model_path())

    def model_path(self) -> str:
        return self.model_combo.currentData() or ""

    def select_model(self, path: str) -> bool:
        index = self.model_combo.findData(path)
        if index >= 0:
            self.model_combo.setCurrentIndex(index)
        return index >= 0

    def device(self) -> str:
        return self.device_combo.currentData() or "auto"

    def _model_index_changed(self) -> None:
        if self.model_path():
            emit(self.model_changed, self.model_path())
