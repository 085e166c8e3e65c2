"""What the window is working on, in one Qt-side object with change signals.

The window and the model bar write to it; controllers and views receive it
in ``__init__`` and subscribe, so no controller needs the window (the shape
napari's Qt layer uses). Setters emit only on a real change. New settings
(e.g. an open-world scope check) go here as one property + setter + signal.

- ``models`` / ``models_changed``: every valid ``ModelInfo`` (registry order)
- ``model`` / ``model_changed``: the chosen ``ModelInfo`` (or None)
- ``device`` / ``device_changed``: "auto", "cpu" or "cuda"
- ``image`` / ``image_changed``: path of the image in the image view (or None)
- ``scope_check`` / ``scope_check_changed``: flag unknown things as out of scope
- ``status`` / ``dialog``: requests for the status bar (text, ms) and a
  message box (kind "warning" / "information", title, text), so controllers
  report without holding a widget
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QObject, Signal

from desktop_app.ui.signals import emit

DEVICES = ("auto", "cpu", "cuda")


class AppState(QObject):
    models_changed = Signal(list)  # list[ModelInfo]
    model_changed = Signal(object)  # ModelInfo | None
    device_changed = Signal(str)
    image_changed = Signal(object)  # str | None
    scope_check_changed = Signal(bool)
    status = Signal(str, int)  # text, milliseconds (0: until replaced)
    dialog = Signal(str, str, str)  # "warning" | "information", title, text

    def __init__(self, device: str = "auto", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._models: list[Any] = []
        self._model: Any = None
        self._device = device if device in DEVICES else "auto"
        self._image: str | None = None
        self._scope_check = True  # the scope check runs unless the user turns it off

    # --- models ---------------------------------------------------------------
    @property
    def models(self) -> list[Any]:
        return list(self._models)

    def set_models(self, infos: Sequence[Any]) -> None:
        """Replace the list of usable models (the current one is kept only if still listed)."""
        self._models = list(infos)
        emit(self.models_changed, self.models)
        if self._model is not None and self._model not in self._models:
            self.set_model(None)

    @property
    def model(self) -> Any:
        return self._model

    def set_model(self, info: Any) -> None:
        if info is self._model:
            return
        self._model = info
        emit(self.model_changed, info)

    def model_by_path(self, path: str) -> Any:
        """The listed ``ModelInfo`` stored at ``path`` (None when not listed)."""
        return next((info for info in self._models if str(info.path) == str(path)), None)

    # --- device -----------------------------------------------------------------
    @property
    def device(self) -> str:
        return self._device

    def set_device(self, device: str) -> None:
        if device not in DEVICES:
            raise ValueError(f"unknown device {device!r}; expected one of {DEVICES}")
        if device != self._device:
            self._device = device
            emit(self.device_changed, device)

    def engine_device(self) -> Any:
        """The device as the engine's ``Device`` enum."""
        from desktop_app.engine.sessions import Device

        return Device(self._device)

    # --- image --------------------------------------------------------------------
    @property
    def image(self) -> str | None:
        return self._image

    def set_image(self, path: str | None) -> None:
        if path != self._image:
            self._image = path
            emit(self.image_changed, path)

    # --- scope check (open-world) ----------------------------------------------------
    @property
    def scope_check(self) -> bool:
        return self._scope_check

    def set_scope_check(self, on: bool) -> None:
        if bool(on) != self._scope_check:
            self._scope_check = bool(on)
            emit(self.scope_check_changed, self._scope_check)

    # --- feedback -------------------------------------------------------------------
    def show_status(self, text: str, ms: int = 8000) -> None:
        emit(self.status, text, ms)

    def warn(self, title: str, text: str) -> None:
        emit(self.dialog, "warning", title, text)

    def inform(self, title: str, text: str) -> None:
        emit(self.dialog, "information", title, text)
