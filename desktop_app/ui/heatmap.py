"""A confusion matrix drawn as a heatmap with QPainter.

Cell shade = the cell's share of its row (so each true class reads as "where
did its test images go"), in the palette's Highlight colour; the count is
written in each cell. Rows are true classes, columns predicted classes.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget


def row_shares(matrix: Sequence[Sequence[float]]) -> list[list[float]]:
    """Each row divided by its sum (rows summing to zero stay zero)."""
    shares = []
    for row in matrix:
        total = float(sum(row))
        shares.append([float(v) / total if total else 0.0 for v in row])
    return shares


class ConfusionHeatmap(QWidget):
    """Paints ``matrix`` (true x predicted counts) with ``labels`` on both axes."""

    def __init__(self, labels: Sequence[str], matrix: Sequence[Sequence[float]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.labels = list(labels)
        self.matrix = [list(row) for row in matrix]
        self._shares = row_shares(self.matrix)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setToolTip("Rows: true class; columns: predicted class. Shade: share of the row's test images.")
        self.setAccessibleName("Confusion matrix")

    def _margins(self) -> tuple[int, int]:
        fm = self.fontMetrics()
        widest = max((fm.horizontalAdvance(lab) for lab in self.labels), default=20) + 10
        return widest, widest  # left (row labels), top (rotated column labels)

    def _cell(self) -> float:
        left, top = self._margins()
        n = max(1, len(self.labels))
        return max(8.0, min((self.width() - left - 4) / n, (self.height() - top - 4) / n))

    def sizeHint(self) -> QSize:  # noqa: N802
        left, top = self._margins()
        side = self.fontMetrics().horizontalAdvance("0000") + 10
        n = max(1, len(self.labels))
        return QSize(left + n * side + 4, top + n * side + 4)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        left, top = self._margins()
        n = max(1, len(self.labels))
        return QSize(left + n * 16, top + n * 16)

    def paintEvent(self, event) -> None:  # noqa: N802, ANN001
        n = len(self.labels)
        if n == 0 or len(self.matrix) != n:
            return
        painter = QPainter(self)
        pal = self.palette()
        text = pal.color(QPalette.ColorRole.WindowText)
        high = pal.color(QPalette.ColorRole.Highlight)
        high_text = pal.color(QPalette.ColorRole.HighlightedText)
        left, top = self._margins()
        cell = self._cell()
        small = QFont(self.font())
        small.setPointSizeF(max(6.0, min(self.font().pointSizeF(), cell / 3.2)))
        for i, label in enumerate(self.labels):
            painter.setPen(text)
            painter.setFont(self.font())
            painter.drawText(
                QRectF(0, top + i * cell, left - 6, cell),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                label,
            )
            painter.save()
            painter.translate(left + i * cell + cell / 2, top - 4)
            painter.rotate(-90)
            painter.drawText(
                QRectF(0, -cell / 2, top - 6, cell), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, label
            )
            painter.restore()
        painter.setFont(small)
        for i in range(n):
            for j in range(n):
                share = self._shares[i][j] if j < len(self._shares[i]) else 0.0
                rect = QRectF(left + j * cell, top + i * cell, cell, cell)
                colour = QColor(high)
                colour.setAlphaF(0.04 + 0.96 * share)
                painter.fillRect(rect.adjusted(0.5, 0.5, -0.5, -0.5), colour)
                value = self.matrix[i][j] if j < len(self.matrix[i]) else 0
                if cell >= 18:
                    painter.setPen(high_text if share > 0.5 else text)
                    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, f"{value:g}")
        painter.end()
