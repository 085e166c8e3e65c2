"""The verdict for one image: class in large type, its probability, all bars.

Shared by the single-image view and the batch detail pane. An "unsure"
prediction shows "Not sure" with the best guess, never a confident wrong word;
an error shows the reason. When the scope (or novelty) check says the photo
shows none of the model's classes, the title reads "Out of scope", one line
says why ("None of the ten classes: this looks like a hot dog (99%)") and the
bars stay visible but greyed; a check that could not run (image too small) is
noted quietly below the answer.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QFont, QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QToolButton, QVBoxLayout, QWidget

from desktop_app.ui.probability_bars import ProbabilityBars, percent_text

OUT_OF_SCOPE_TITLE = "Out of scope"


class ResultPanel(QWidget):
    """Shows one engine ``Prediction`` (or a message)."""

    def __init__(self, parent: QWidget | None = None, *, title_scale: float = 2.2) -> None:
        super().__init__(parent)
        self.title = QLabel("No image yet")
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * title_scale)
        font.setBold(True)
        self.title.setFont(font)
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.title.setAccessibleName("Predicted class")
        self.subtitle = QLabel("Drop an image to classify it.")
        self.subtitle.setWordWrap(True)
        self.subtitle.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.subtitle.setAccessibleName("Prediction details")
        self.scope_line = QLabel(self)  # why the photo is out of scope (bold), or a quiet "not checked" note
        self.scope_line.setWordWrap(True)
        self.scope_line.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.scope_line.setAccessibleName("Scope check")
        self.scope_line.hide()
        self.bars = ProbabilityBars(self)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.scope_line)
        layout.addWidget(self.subtitle)
        layout.addSpacing(8)
        layout.addWidget(self.bars)
        self._buttons = QHBoxLayout()  # commands on this result (e.g. "Correct..."), added by controllers
        self._buttons.addStretch(1)
        layout.addLayout(self._buttons)
        layout.addStretch(1)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)

    def add_action_button(self, action: QAction) -> QToolButton:
        """A button for ``action`` under the bars (shown only while the action is enabled)."""
        button = QToolButton(self)
        button.setDefaultAction(action)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        button.setVisible(action.isEnabled())
        action.enabledChanged.connect(button.setVisible)
        self._buttons.insertWidget(self._buttons.count() - 1, button)
        return button

    def show_message(self, title: str, detail: str = "") -> None:
        self.title.setText(title)
        self.subtitle.setText(detail)
        self.scope_line.hide()
        self.bars.clear()

    def _show_scope(self, verdict: Any) -> bool:
        """Show the scope line for ``verdict``; True when the photo is out of scope."""
        reason = verdict.reason if verdict is not None else ""
        out = verdict is not None and verdict.in_scope is False
        font = QFont(self.font())
        font.setBold(out)
        if not out:
            font.setPointSizeF(font.pointSizeF() * 0.9)
        self.scope_line.setFont(font)
        self.scope_line.setForegroundRole(QPalette.ColorRole.WindowText if out else QPalette.ColorRole.PlaceholderText)
        self.scope_line.setText(reason if out else (f"Scope not checked: {reason}" if reason else ""))
        self.scope_line.setVisible(bool(self.scope_line.text()))
        return out

    def show_prediction(self, prediction: Any, labels: tuple[str, ...] | list[str]) -> None:
        """Show ``prediction`` made by a model with class names ``labels``."""
        if prediction.error:
            self.show_message("Cannot read this image", prediction.error)
            return
        p = percent_text(prediction.probability)
        out = self._show_scope(getattr(prediction, "scope", None))
        if out:
            self.title.setText(OUT_OF_SCOPE_TITLE)
            self.subtitle.setText(f"The model's answer would be {prediction.label} ({p}); its bars are greyed.")
        elif prediction.unsure:
            self.title.setText("Not sure")
            self.subtitle.setText(
                f"Best guess: {prediction.label} ({p}). The model is not confident; "
                "the image may show none of its classes."
            )
        else:
            self.title.setText(prediction.label)
            self.subtitle.setText(f"{p} probability")
        probs = prediction.probabilities
        if probs is not None:
            self.bars.set_probabilities(labels, list(probs), unsure=prediction.unsure, dimmed=out)
        else:  # only top-k known
            self.bars.set_probabilities([k for k, _ in prediction.top_k], [v for _, v in prediction.top_k], dimmed=out)
