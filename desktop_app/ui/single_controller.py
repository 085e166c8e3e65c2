"""Classifies the image shown in the image view, on the thread pool.

A generation counter makes sure a slow, outdated answer (the user switched
model or image meanwhile) never overwrites a newer one; the preview is loaded
separately so it appears before the model has answered.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from desktop_app.engine.sessions import Device
from desktop_app.ui.qt_images import read_qimage
from desktop_app.ui.scope_setting import second_opinion
from desktop_app.ui.signals import emit
from desktop_app.ui.single_view import SingleView
from desktop_app.ui.state import AppState
from desktop_app.ui.status import StatusWidgets
from desktop_app.ui.workers import Task

PREVIEW_SIDE = 1600


def classify_one(
    info: Any, device: Device, path: str, models: Sequence[Any] = (), scope_check: bool = False
) -> tuple[Any, Any, float | None]:
    """(Prediction, SessionReport, inference ms or None) for one file, with the scope check of
    ``info`` among ``models`` when ``scope_check``; runs on a worker."""
    from desktop_app.engine.classifier import get_classifier

    classifier = get_classifier(info, device)
    scope = second_opinion(info, models, device, enabled=scope_check)
    prediction = classifier.classify(path, scope=scope)
    return prediction, classifier.report, classifier.last_inference_ms if prediction.ok else None


class SingleController(QObject):
    """Classifies ``state.image`` with ``state.model`` on ``state.device``; re-runs when any changes."""

    shown = Signal(object)  # the Prediction now on screen

    def __init__(
        self, state: AppState, view: SingleView, status: StatusWidgets, run_task: Callable[[Task], None]
    ) -> None:
        super().__init__(view)
        self.state = state
        self.view = view
        self.status = status
        self._run_task = run_task
        self.last_prediction: Any = None
        self._generation = 0
        self._preview_generation = 0
        state.model_changed.connect(self._settings_changed)
        state.device_changed.connect(self._settings_changed)
        state.scope_check_changed.connect(self._settings_changed)

    @property
    def current_path(self) -> str | None:
        return self.state.image

    def show_image(self, path: str) -> None:
        """Make ``path`` the current image (preview) and classify it."""
        if path != self.state.image:
            self.state.set_image(path)
            self._load_preview(path)
        self.classify()

    def _settings_changed(self, _value: object) -> None:
        if self.state.image is not None:
            self.classify()
        else:
            self.prepare()

    def classify(self) -> None:
        """Classify the current image with the current model and device."""
        info, path = self.state.model, self.state.image
        if path is None:
            return
        if info is None:
            self.view.result.show_message("No model", "Add a models folder to classify images (Models menu).")
            return
        self._generation += 1
        generation = self._generation
        self.view.result.show_message("Classifying...", f"{Path(path).name} with {info.display_name}")
        state = self.state
        task = Task(classify_one, info, state.engine_device(), path, state.models, state.scope_check)
        task.signals.result.connect(lambda result, g=generation, i=info: self._show_prediction(g, i, result))
        task.signals.error.connect(lambda msg, g=generation: g == self._generation and self._failed(msg))
        self._run_task(task)

    def prepare(self) -> None:
        """Open the current model's session in the background so the first image is quick."""
        if self.state.model is None:
            return
        from desktop_app.engine.classifier import get_classifier

        task = Task(get_classifier, self.state.model, self.state.engine_device())
        task.signals.result.connect(lambda classifier: self.status.show_report(classifier.report, None))
        task.signals.error.connect(lambda msg: self.state.show_status(f"The model failed to load: {msg}", 10000))
        self._run_task(task)

    def _show_prediction(self, generation: int, info: Any, result: tuple[Any, Any, float | None]) -> None:
        if generation != self._generation:
            return
        prediction, report, ms = result
        self.last_prediction = prediction
        self.view.result.show_prediction(prediction, info.labels)
        self.status.show_report(report, ms)
        emit(self.shown, prediction)

    def _failed(self, message: str) -> None:
        self.view.result.show_message("The model failed", message)
        self.state.show_status(f"The model failed: {message}", 10000)

    def _load_preview(self, path: str) -> None:
        self._preview_generation += 1
        generation = self._preview_generation
        self.view.drop_area.set_image(None)
        self.view.drop_area.set_message(f"Loading {Path(path).name}...")
        task = Task(read_qimage, path, PREVIEW_SIDE)
        task.signals.result.connect(lambda image, g=generation: self._show_preview(g, path, image))
        self._run_task(task)

    def _show_preview(self, generation: int, path: str, image: QImage) -> None:
        if generation != self._preview_generation:
            return
        self.view.drop_area.set_image(image)
        if image.isNull():
            self.view.drop_area.set_message(f"No preview for {Path(path).name}\n\nDrop another image or folder here")
