"""Help menu: the keyboard shortcuts (read from the actions themselves) and where the docs are."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QVBoxLayout, QWidget

from desktop_app.ui.actions import Actions
from desktop_app.ui.tables import text_table


def docs_url() -> QUrl | None:
    """The user guide (docs/app.md, next to the package in a checkout or a bundle); None when absent."""
    here = Path(__file__).resolve()
    for root in (here.parents[2], here.parents[1]):
        guide = root / "docs" / "app.md"
        if guide.is_file():
            return QUrl.fromLocalFile(str(guide))
    return None


def shortcut_rows(actions: Actions) -> list[tuple[str, str]]:
    """(keys, what they do) for every action with a shortcut, in menu order."""
    native = QKeySequence.SequenceFormat.NativeText
    return [(a.shortcut().toString(native), a.text().replace("&", "").rstrip(".")) for a in actions.with_shortcuts()]


class ShortcutsDialog(QDialog):
    """A read-only table of every shortcut."""

    def __init__(self, actions: Actions, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        rows = shortcut_rows(actions)
        self.table = text_table(["Keys", "Action"], rows, parent=self)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(460, 420)
