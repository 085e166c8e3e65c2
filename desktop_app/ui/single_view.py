"""The single-image page: the drop area with the preview, and the verdict beside it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QSplitter, QWidget

from desktop_app.ui.drop_area import DropArea
from desktop_app.ui.result_panel import ResultPanel


class SingleView(QWidget):
    """Drop area (left) and result panel (right), in a splitter the user can move."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.drop_area = DropArea(self)
        self.result = ResultPanel(self)
        self.result.setMinimumWidth(220)  # the bars never get clipped by the splitter
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(self.drop_area)
        self.splitter.addWidget(self.result)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)
        self.setTabOrder(self.drop_area, self.result)
