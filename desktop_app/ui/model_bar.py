"""The tool bar: open buttons, the model dropdown (name + test accuracy), details, compare, device.

It writes the user's choices to the :class:`~desktop_app.ui.state.AppState`
and follows the state (a model chosen at start-up or a ``--device`` from the
command line shows up here too).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QComboBox, QLabel, QSizePolicy, QToolBar, QWidget

from desktop_app.ui.actions import Actions
from desktop_app.ui.state import AppState
from desktop_app.ui.text import model_choice_text, model_title

DEVICES = (
    ("Auto", "auto", "CUDA when available, else the CPU"),
    ("CPU", "cpu", "Always the CPU"),
    ("CUDA", "cuda", "NVIDIA GPU (falls back to the CPU, with a notice, when unavailable)"),
)
CUDA_UNAVAILABLE_TEXT = "CUDA (not available)"


def cuda_unavailable_reason() -> str | None:
    """Why CUDA cannot be used with this onnxruntime (None when its provider is there)."""
    from desktop_app.engine.sessions import CUDA, available_providers

    providers = available_providers()
    if CUDA in providers:
        return None
    return (
        "This onnxruntime has no CUDA provider (it offers " + ", ".join(providers) + "). "
        "Install onnxruntime-gpu and the NVIDIA CUDA/cuDNN libraries to use a GPU; "
        "choosing CUDA now runs on the CPU."
    )


class ModelBar(QObject):
    """Owns the model and device dropdowns; writes choices to ``state`` and follows it."""

    def __init__(self, state: AppState, parent: QWidget) -> None:
        super().__init__(parent)
        self.state = state
        self._cuda_notice_shown = False
        self.model_combo = QComboBox(parent)
        self.model_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model_combo.setMinimumContentsLength(30)  # fixed width: the tool bar fits 800 px
        self.model_combo.setToolTip("The model that classifies the images; switching re-classifies the current image")
        self.model_combo.setAccessibleName("Model")
        self.model_combo.addItem("Loading models...")
        self.model_combo.setEnabled(False)
        self.model_combo.currentIndexChanged.connect(self._model_index_changed)
        self.device_combo = QComboBox(parent)
        self.cuda_reason = cuda_unavailable_reason()
        for i, (text, value, tip) in enumerate(DEVICES):
            if value == "cuda" and self.cuda_reason:
                text, tip = CUDA_UNAVAILABLE_TEXT, self.cuda_reason
            self.device_combo.addItem(text, value)
            self.device_combo.setItemData(i, tip, Qt.ItemDataRole.ToolTipRole)
        self.device_combo.setToolTip("Where the models run: Auto, CPU or CUDA (NVIDIA GPU)")
        self.device_combo.setAccessibleName("Device")
        self._show_device(state.device)
        self.device_combo.currentIndexChanged.connect(self._device_index_changed)
        state.models_changed.connect(self.set_models)
        state.model_changed.connect(self._show_model)
        state.device_changed.connect(self._show_device)

    def toolbar(self, actions: Actions) -> QToolBar:
        parent = self.parent()
        bar = QToolBar("Main tool bar", parent)  # type: ignore[arg-type]
        bar.setObjectName("main_toolbar")  # saveState() needs a name
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)  # text in tool tips: fits 800 px
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

    # --- following the state ---------------------------------------------------------
    def set_models(self, infos: Sequence[Any]) -> None:
        """Fill the dropdown (no state change: the current model is set by whoever loads models)."""
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        for info in infos:
            self.model_combo.addItem(model_choice_text(info), str(info.path))
            tip = model_title(info) + (f"\n{info.description}" if info.description else f"\n{info.path}")
            self.model_combo.setItemData(self.model_combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.model_combo.setEnabled(bool(infos))
        if not infos:
            self.model_combo.addItem("No models found")
        self.model_combo.blockSignals(False)
        self._show_model(self.state.model)

    def set_refused(self, refused: Sequence[tuple[Any, str]]) -> None:
        """List refused model files (and why) in the dropdown's tool tip."""
        if refused:
            self.model_combo.setToolTip("Refused model files:\n" + "\n".join(f"{p.name}: {why}" for p, why in refused))

    def _show_model(self, info: Any) -> None:
        index = self.model_combo.findData(str(info.path)) if info is not None else -1
        if index >= 0 and index != self.model_combo.currentIndex():
            self.model_combo.blockSignals(True)
            self.model_combo.setCurrentIndex(index)
            self.model_combo.blockSignals(False)

    def _show_device(self, device: str) -> None:
        index = self.device_combo.findData(device)
        if index >= 0 and index != self.device_combo.currentIndex():
            self.device_combo.blockSignals(True)
            self.device_combo.setCurrentIndex(index)
            self.device_combo.blockSignals(False)

    # --- the user's choices -----------------------------------------------------------
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
        info = self.state.model_by_path(self.model_path())
        if info is not None:
            self.state.set_model(info)

    def _device_index_changed(self) -> None:
        device = self.device()
        if device == "cuda" and self.cuda_reason and not self._cuda_notice_shown:
            self._cuda_notice_shown = True  # once per session: the item text keeps saying it
            self.state.inform("CUDA is not available", self.cuda_reason)
        self.state.set_device(device)
