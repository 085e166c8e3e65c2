"""Compare models: the current image classified by every model, side by side.

One card per model (name, test accuracy, top class, probability, small bars)
so a user sees at a glance where the models disagree. Each model runs as its
own background task, so cards fill in as they finish.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QThreadPool, Signal
from PySide6.QtGui import QFont, QImage, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop_app.ui.probability_bars import ProbabilityBars, percent_text
from desktop_app.ui.qt_images import read_qimage
from desktop_app.ui.scope_setting import second_opinion
from desktop_app.ui.signals import emit
from desktop_app.ui.text import model_title
from desktop_app.ui.workers import Task

THUMBNAIL_SIDE = 96
CARD_WIDTH = 260


def _classify(info: Any, models: Sequence[Any], device: Any, path: str, scope_check: bool) -> Any:
    """One card's prediction, with the model's scope / novelty check like the single view's."""
    from desktop_app.engine.classifier import get_classifier

    scope = second_opinion(info, models, device, enabled=scope_check)
    return get_classifier(info, device).classify(path, scope=scope)


class ModelCard(QFrame):
    """One model's verdict."""

    def __init__(self, info: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.info = info
        self.prediction: Any = None
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setFixedWidth(CARD_WIDTH)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
        # One line per title (elided, full text in the tool tip), two lines of detail: the bars of
        # every card start at the same height.
        self.title = name = QLabel(self)
        name.setToolTip(model_title(info))
        name.setText(name.fontMetrics().elidedText(model_title(info), Qt.TextElideMode.ElideRight, CARD_WIDTH - 24))
        self.verdict = QLabel("classifying...", self)
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        self.verdict.setFont(font)
        self.detail = QLabel(self)
        self.detail.setWordWrap(True)
        self.detail.setFixedHeight(self.detail.fontMetrics().lineSpacing() * 2 + 4)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
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
        out = getattr(prediction, "in_scope", None) is False
        self.verdict.setText(f"{prediction.label}?" if prediction.unsure or out else prediction.label)
        detail = percent_text(prediction.probability) + (" (unsure)" if prediction.unsure else "")
        self.detail.setText(f"{detail} · out of scope: {prediction.scope.reason}" if out else detail)
        self.detail.setToolTip(prediction.scope.reason if out else "")  # the whole line when two do not hold it
        self.bars.set_probabilities(
            self.info.labels, list(prediction.probabilities), unsure=prediction.unsure, dimmed=out
        )

    def show_error(self, message: str) -> None:
        self.verdict.setText("error")
        self.detail.setText(message)

    def error_text(self) -> str | None:
        """The error this card shows (None when it shows a verdict)."""
        if self.prediction is not None and self.prediction.ok:
            return None
        return self.detail.text()


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
        self.thumbnail = QLabel(self)
        self.thumbnail.setFixedSize(THUMBNAIL_SIDE, THUMBNAIL_SIDE)
        self.thumbnail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.thumbnail.setAccessibleName("Compared image")
        self.image_name = QLabel(self)
        self._path = ""
        self._grid_host = QWidget()
        self._grid = QGridLayout(self._grid_host)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(self._grid_host)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        header = QHBoxLayout()
        header.addWidget(self.thumbnail)
        text = QVBoxLayout()
        text.addWidget(self.image_name)
        text.addWidget(self.summary)
        text.addStretch(1)
        header.addLayout(text, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(scroll, 1)
        layout.addWidget(buttons)
        self.resize(min(1200, (CARD_WIDTH + 12) * min(4, max(1, len(self._models))) + 60), 560)

    def set_image(self, path: str, device: Any = None, *, scope_check: bool = True) -> None:
        """(Re)classify ``path`` with every model (each with its scope check unless ``scope_check`` is off)."""
        self._device = device if device is not None else self._device
        self._generation += 1
        self._path = path
        self.image_name.setText(Path(path).name)
        self.thumbnail.clear()
        thumb = Task(read_qimage, path, THUMBNAIL_SIDE)
        thumb.signals.result.connect(lambda image, g=self._generation: g == self._generation and self._thumb(image))
        self._thumb_task = thumb  # kept alive until the next image
        self._pool.start(thumb)
        for card in self.cards:
            card.deleteLater()
        self.cards = [ModelCard(info, self._grid_host) for info in self._models]
        columns = min(4, max(1, len(self.cards)))
        for i, card in enumerate(self.cards):
            self._grid.addWidget(card, i // columns, i % columns, Qt.AlignmentFlag.AlignTop)
        self._pending = len(self.cards)
        self.summary.setText(f"Classifying with {len(self.cards)} models..." if self.cards else "No models to compare.")
        for card in self.cards:
            task = Task(_classify, card.info, self._models, self._device, path, scope_check)
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
            errors = {c.error_text() for c in self.cards}
            if not labels and len(errors) == 1 and self.cards:
                # The file itself is the problem (every model says the same): one message, no cards.
                for c in self.cards:
                    c.hide()
                self.summary.setText(f"No model could read {Path(self._path).name}: {errors.pop()}")
            else:
                self.summary.setText(agreement_text(labels))
            emit(self.all_done)

    def _thumb(self, image: QImage) -> None:
        if image.isNull():
            self.thumbnail.setText("(no preview)")
            return
        pixmap = QPixmap.fromImage(image).scaled(
            self.thumbnail.size(), Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
        )
        self.thumbnail.setPixmap(pixmap)
