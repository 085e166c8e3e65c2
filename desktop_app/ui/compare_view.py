"""Compare models: the current image classified by every model, side by side.

One card per model (name, test accuracy, top class, probability, small bars)
so a user sees at a glance where the models disagree. Each model runs as its
own background task, so cards fill in as they finish.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Sequence

from PySide6.QtCore import QThreadPool, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGridLayout,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from desktop_app.ui.probability_bars import ProbabilityBars, percent_text
from desktop_app.ui.signals import emit
from desktop_app.ui.workers import Task


def model_title(info: Any) -> str:
    """ "Deep CNN (85.0% test accuracy)" or just the name when not recorded."""
    acc = info.test_accuracy
    return f"{info.display_name} ({acc * 100:.1f}% test accuracy)" if acc is not None else info.display_name


def _classify(info: Any, device: Any, path: str) -> Any:
    from desktop_app.engine.classifier import get_classifier

    return get_classifier(info, device).classify(path)


class ModelCard(QFrame):
    """One model's verdict."""

    def __init__(self, info: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.info = info
        self.prediction: Any = None
        self.setFrameShape(QFrame.Shape.StyledPanel)
        name = QLabel(model_title(info), self)
        name.setWordWrap(True)
        self.verdict = QLabel("classifying...", self)
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        self.verdict.setFont(font)
        self.detail = QLabel(self)
        self.detail.setWordWrap(True)
        self.bars = ProbabilityBars(self, compact=True)
        layout = QVBoxLayout(self)
        layout.addWidget(name)
        layout.addWidget(self.verdict)
        layout.addWidget(self.detail)
        layout.addWidget(self.bars)
        layout.addStretch(1)

    def show_prediction(self, prediction: Any) -> None:
        self.prediction = prediction
        if prediction.error:
            self.verdict.setText("error")
            self.detail.setText(prediction.error)
            return
        self.verdict.setText(f"{prediction.label}?" if prediction.unsure else prediction.label)
        self.detail.setText(percent_text(prediction.probability) + (" (unsure)" if prediction.unsure else ""))
        self.bars.set_probabilities(self.info.labels, list(prediction.probabilities), unsure=prediction.unsure)

    def show_error(self, message: str) -> None:
        self.verdict.setText("error")
        self.detail.setText(message)


def agreement_text(labels: Sequence[str]) -> str:
    """ "3 of 4 models say cat" / "All 4 models say cat"."""
    if not labels:
        return "No model could classify this image."
    label, votes = Counter(labels).most_common(1)[0]
    if votes == len(labels):
        return f"All {votes} models say {label}." if votes > 1 else f"The model says {label}."
    return f"{votes} of {len(labels)} models say {label}; the others disagree."


class CompareDialog(QDialog):
    """Cards for ``models`` on image ``path``; emits ``all_done`` when every card is filled."""

    all_done = Signal()

    def __init__(self, models: Sequence[Any], device: Any, pool: QThreadPool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Compare models")
        self._models = list(models)
        self._device = device
        self._pool = pool
        self._tasks: list[Task] = []
        self._generation = 0
        self._pending = 0
        self.cards: list[ModelCard] = []
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        self._grid_host = QWidget()
        self._grid = QGridLayout(self._grid_host)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(self._grid_host)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(scroll, 1)
        layout.addWidget(buttons)
        self.resize(min(1200, 300 * max(1, len(self._models)) + 60), 480)

    def set_image(self, path: str, device: Any = None) -> None:
        """(Re)classify ``path`` with every model."""
        self._device = device if device is not None else self._device
        self._generation += 1
        for card in self.cards:
            card.deleteLater()
        self.cards = [ModelCard(info, self._grid_host) for info in self._models]
        columns = min(4, max(1, len(self.cards)))
        for i, card in enumerate(self.cards):
            self._grid.addWidget(card, i // columns, i % columns)
        self._pending = len(self.cards)
        self.summary.setText(f"Classifying with {len(self.cards)} models..." if self.cards else "No models to compare.")
        for card in self.cards:
            task = Task(_classify, card.info, self._device, path)
            generation = self._generation
            task.signals.result.connect(lambda pred, c=card, g=generation: self._done(g, c, pred, None))
            task.signals.error.connect(lambda msg, c=card, g=generation: self._done(g, c, None, msg))
            self._tasks.append(task)
            self._pool.start(task)
        if not self.cards:
            emit(self.all_done)

    def _done(self, generation: int, card: ModelCard, prediction: Any, error: str | None) -> None:
        if generation != self._generation:
            return
        if prediction is not None:
            card.show_prediction(prediction)
        else:
            card.show_error(error or "failed")
        self._pending -= 1
        if self._pending == 0:
            self._tasks.clear()
            labels = [c.prediction.label for c in self.cards if c.prediction is not None and c.prediction.ok]
            self.summary.setText(agreement_text(labels))
            emit(self.all_done)
