"""A read-only table of text, used by the model details and the shortcuts dialog."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem, QWidget


def text_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    right_aligned_from: int | None = None,
    stretch_last_only: bool = False,
    parent: QWidget | None = None,
) -> QTableWidget:
    """``rows`` of text under ``headers``; columns from ``right_aligned_from`` on are right-aligned
    (numbers). ``stretch_last_only`` sizes the other columns to their text and wraps the last one."""
    table = QTableWidget(len(rows), len(headers), parent)
    table.setHorizontalHeaderLabels(list(headers))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            item = QTableWidgetItem(text)
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            item.setToolTip(text)
            if right_aligned_from is not None and c >= right_aligned_from:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(r, c, item)
    table.verticalHeader().hide()
    header = table.horizontalHeader()
    if not stretch_last_only:
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        return table
    table.setWordWrap(True)
    for c in range(len(headers) - 1):
        header.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(len(headers) - 1, QHeaderView.ResizeMode.Stretch)
    table.resizeRowsToContents()
    header.sectionResized.connect(lambda *_: table.resizeRowsToContents())  # long text wraps, never cut
    return table
