"""Classifies the image shown in the image view, on the thread pool.

A generation counter makes sure a slow, outdated answer (the user switched
model or image meanwhile) never overwrites a newer one; the preview is loaded
separately so it appears before the model has answered.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from desktop_app.engine.sessions import Device
from desktop_app.ui.qt_images import read_qimage
from desktop_app.ui.signals import emit
from desktop_app.ui.workers import Task

if TYPE_CHECKING:
    from desktop_app.ui.main_window import MainWindow

PREVIEW_SIDE = 1600


def classify_one(info: Any, device: Device, path: str) -> tuple[Any, Any, float | None]:
    """(Prediction, SessionReport, inference ms or None) for one file; runs on a worker."""
    from desktop_app.engine.classifier import get_classifier

    classifier = get_classifier(info, device)
    prediction = classifier.classify(path)
    return prediction, classifier.report, classifier.last_inference_ms if prediction.ok else None


class SingleController(QObject):
    shown = Signal(object)  # the Prediction now on screen

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.view = window.single_view
        self.current_path: str | None = None
        self.last_prediction: Any = None
        self._generation = 0
        self._preview_generation = 0

    def show_image(self, path: str) -> None:
        """Make ``path`` the current image (preview) and classify it."""
        if path != self.current_path:
            self.current_path = path
            self._load_preview(path)
        self.classify()

    def classify(self) -> None:
        """Classify the current image with the current model and device."""
        info, path = self.window.models.current, self.current_path
        if path is None:
            return
        if info is None:
            self.view.result.show_message("No model", "Add a models folder to classify images (Models menu).")
            return
        self._generation += 1
        generation = self._generation
        self.view.result.show_message("Classifying...", f"{Path(path).name} with {info.display_name}")
        task = Task(classify_one, info, self.window.device(), path)
        task.signals.result.connect(lambda result, g=generation, i=info: self._show_prediction(g, i, result))
        task.signals.error.connect(lambda msg, g=generation: g == self._generation and self._failed(msg))
        self.window.run_task(task)

    def _show_prediction(self, generation: int, info: Any, result: tuple[Any, Any, float | None]) -> None:
        if generation != self._generation:
            return
        prediction, report, ms = result
        self.last_prediction = prediction
        self.view.result.show_prediction(prediction, info.labels)
        self.window.status.show_report(report, ms)
        emit(self.shown, prediction)

    def _failed(self, message: str) -> None:
        self.view.result.show_message("The model failed", message)
        self.window.statusBar().showMessage(f"The model failed: {message}", 10000)

    def _load_preview(self, path: str) -> None:
        self._preview_generation += 1
        generation = self._preview_generation
        self.view.drop_area.set_image(None)
        self.view.drop_area.set_message(f"Loading {Path(path).name}...")
        task = Task(read_qimage, path, PREVIEW_SIDE)
        task.signals.result.connect(lambda image, g=generation: self._show_preview(g, path, image))
        self.window.run_task(task)

    def _show_preview(self, generation: int, path: str, image: QImage) -> None:
        if generation != self._preview_generation:
            return
        self.view.drop_area.set_image(image)
        if image.isNull():
            self.view.drop_area.set_message(f"No preview for {Path(path).name}\n\nDrop another image or folder here")
