"""A bar per class with its percentage; the top class highlighted.

Painted with QPainter in palette colours only (Highlight for the top class,
a faded WindowText for the others), so it follows light and dark themes and
scales cleanly on high-DPI screens. Classes stay in the model's label order so
that bars do not jump around when the user switches models. A model with many
classes (the 1,000-class general model) shows its top ten, largest first, plus
one "all other classes" bar with the rest of the probability, never a thousand
rows. ``dimmed`` greys every bar (an out-of-scope photo: the answer is shown
but not to be trusted).
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

#: Up to this many classes every class gets a bar (in label order); above it, the top ones.
MAX_ALL_BARS = 12
#: How many classes a many-class model shows before the "all other classes" bar.
TOP_BARS = 10
OTHER_CLASSES = "all other classes"


def bar_rows(labels: Sequence[str], probabilities: Sequence[float]) -> list[tuple[str, float]]:
    """The (label, probability) rows to draw: every class in label order for a small model;
    the top :data:`TOP_BARS` (largest first) plus "all other classes" (their summed
    probability) for a model with more than :data:`MAX_ALL_BARS` classes."""
    pairs = [(str(lab), float(p)) for lab, p in zip(labels, probabilities)]
    if len(pairs) <= MAX_ALL_BARS:
        return pairs
    ranked = sorted(pairs, key=lambda pair: -pair[1])
    top = ranked[:TOP_BARS]
    rest = sum(p for _, p in ranked[TOP_BARS:])
    return top + [(f"{OTHER_CLASSES} ({len(ranked) - TOP_BARS:,})", max(0.0, rest))]


def percent_text(p: float) -> str:
    """ "99.6%", "0.04%" or "<0.01%": enough digits to tell small values apart."""
    pct = p * 100
    if pct >= 10:
        return f"{pct:.1f}%"
    if pct >= 0.01:
        return f"{pct:.2f}%"
    return "0%" if pct == 0 else "<0.01%"


class ProbabilityBars(QWidget):
    """Shows ``labels`` with ``probabilities``; ``compact`` draws thin rows for side-by-side views."""

    def __init__(self, parent: QWidget | None = None, *, compact: bool = False) -> None:
        super().__init__(parent)
        self._labels: list[str] = []
        self._probs: list[float] = []
        self._top = -1
        self._unsure = False
        self._dimmed = False
        self._others = False  # the last row sums the classes not shown
        self._compact = compact
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)
        self.setAccessibleName("Class probabilities")

    # --- data -------------------------------------------------------------
    def set_probabilities(
        self, labels: Sequence[str], probabilities: Sequence[float], *, unsure: bool = False, dimmed: bool = False
    ) -> None:
        """Show a bar per label (or the top ten and "all other classes" for a many-class model);
        the largest probability is the top class."""
        rows = bar_rows(labels, probabilities)
        self._others = len(rows) < len(list(labels))
        self._labels = [lab for lab, _ in rows]
        self._probs = [p for _, p in rows]
        shown = self._probs[:-1] if self._others else self._probs
        self._top = max(range(len(shown)), key=shown.__getitem__) if shown else -1
        self._unsure = unsure
        self._dimmed = dimmed
        lines = [f"{lab}: {percent_text(p)}" for lab, p in zip(self._labels, self._probs)]
        self.setToolTip("\n".join(lines))
        self.setAccessibleDescription("; ".join(lines))
        self.updateGeometry()
        self.update()

    def clear(self) -> None:
        self.set_probabilities([], [])

    def values(self) -> list[tuple[str, float]]:
        """The (label, probability) pairs shown, in display order."""
        return list(zip(self._labels, self._probs))

    def top_label(self) -> str | None:
        return self._labels[self._top] if self._top >= 0 else None

    @property
    def dimmed(self) -> bool:
        """True while the bars are greyed (an out-of-scope answer)."""
        return self._dimmed

    # --- geometry ---------------------------------------------------------
    def _row_height(self) -> int:
        h = self.fontMetrics().height()
        return h + (2 if self._compact else 8)

    def _bold_font(self) -> QFont:
        bold = QFont(self.font())
        bold.setBold(True)
        return bold

    def _label_width(self) -> int:
        fm = QFontMetrics(self._bold_font())  # the top label is bold: measure the wider font
        widest = max((fm.horizontalAdvance(lab) for lab in self._labels), default=40)
        # + 8 px gap before the bar, + 6 px slack for hinting differences between metrics and painter
        return min(widest, fm.averageCharWidth() * (14 if self._compact else 24)) + 14

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        return QSize(self._label_width() + 200, max(1, len(self._labels)) * self._row_height() + 4)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(self._label_width() + 80, max(1, len(self._labels)) * self._row_height() + 4)

    # --- painting ---------------------------------------------------------
    def paintEvent(self, event) -> None:  # noqa: N802, ANN001
        if not self._labels:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        fm = self.fontMetrics()
        row_h = self._row_height()
        label_w = self._label_width()
        pct_w = fm.horizontalAdvance("<0.01%") + 8
        bar_w = max(10, self.width() - label_w - pct_w)
        text_colour = pal.color(QPalette.ColorRole.WindowText)
        track = QColor(text_colour)
        track.setAlphaF(0.08)
        other = QColor(text_colour)
        other.setAlphaF(0.35)
        top_colour = pal.color(QPalette.ColorRole.Highlight)
        if self._unsure:
            top_colour.setAlphaF(0.55)
        if self._dimmed:  # out of scope: every bar and text in a faded grey, the top one too
            top_colour = QColor(other)
            text_colour = pal.color(QPalette.ColorRole.PlaceholderText)
        bold = self._bold_font()
        for i, (label, p) in enumerate(zip(self._labels, self._probs)):
            y = 2 + i * row_h
            is_top = i == self._top
            font = bold if is_top else QFont(self.font())
            font.setItalic(self._others and i == len(self._labels) - 1)
            painter.setFont(font)
            painter.setPen(text_colour)
            text = painter.fontMetrics().elidedText(label, Qt.TextElideMode.ElideRight, label_w - 8)
            painter.drawText(
                QRectF(0, y, label_w - 8, row_h), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, text
            )
            inset = 1 if self._compact else 3
            bar = QRectF(label_w, y + inset, bar_w, row_h - 2 * inset)
            radius = min(3.0, bar.height() / 2)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(track)
            painter.drawRoundedRect(bar, radius, radius)
            filled = QRectF(bar.x(), bar.y(), max(0.0, min(1.0, p)) * bar.width(), bar.height())
            if filled.width() > 0.5:
                painter.setBrush(top_colour if is_top else other)
                painter.drawRoundedRect(filled, radius, radius)
            painter.setPen(text_colour)
            painter.drawText(
                QRectF(label_w + bar_w, y, pct_w, row_h),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                percent_text(p),
            )
        painter.end()
