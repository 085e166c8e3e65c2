"""Batch results as a Qt table model, plus the sort/filter proxy in front of it.

The model only holds engine ``Prediction`` objects and formats them; rows are
appended in chunks as the batch worker delivers them. Thumbnails come from a
:class:`~desktop_app.ui.thumbnails.ThumbnailCache` that loads them in the
background for the rows the view actually paints.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QStyle

from desktop_app.ui.probability_bars import percent_text
from desktop_app.ui.signals import emit
from desktop_app.ui.thumbnails import ThumbnailCache

COLUMNS = ("Preview", "File", "Class", "Probability", "In scope", "Top 3", "Error")
COL_PREVIEW, COL_FILE, COL_CLASS, COL_PROB, COL_SCOPE, COL_TOP, COL_ERROR = range(len(COLUMNS))
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
UNSURE_TEXT = "unsure"
OUT_OF_SCOPE_TEXT = "out of scope"
ERROR_TEXT = "Error"

_Index = QModelIndex | QPersistentModelIndex


def relative_name(path: str | Path, roots: Sequence[Path]) -> str:
    """``path`` relative to the dropped folder it came from ("cat/0000.jpg"); the file name otherwise."""
    path = Path(path)
    for root in roots:
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            continue
    return path.name


def out_of_scope(pred: Any) -> bool:
    """True when the scope / novelty check said the photo shows none of the model's classes."""
    return not pred.error and getattr(pred, "in_scope", None) is False


def scope_text(pred: Any) -> str:
    """The "In scope" cell: "yes", "no: hot dog" ("no" for a novelty verdict), "" when not checked."""
    in_scope = None if pred.error else getattr(pred, "in_scope", None)
    if in_scope is None:
        return ""
    if in_scope:
        return "yes"
    return f"no: {pred.looks_like}" if pred.looks_like else "no"


def top_k_text(top_k: Sequence[tuple[str, float]]) -> str:
    return ", ".join(f"{label} {percent_text(p)}" for label, p in top_k)


class ResultsModel(QAbstractTableModel):
    """One row per engine ``Prediction``, in arrival order."""

    def __init__(self, thumbnails: ThumbnailCache | None = None, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[Any] = []
        self._row_of: dict[str, int] = {}
        self.labels: tuple[str, ...] = ()
        self.roots: list[Path] = []
        self._error_icon: Any = None
        self._thumbs = thumbnails
        if thumbnails is not None:
            thumbnails.ready.connect(self._thumbnail_ready)

    # --- content ----------------------------------------------------------
    def reset(self, labels: Sequence[str] = ()) -> None:
        """Drop every row; ``labels`` are the class names of the model used for the batch."""
        self.beginResetModel()
        self._rows = []
        self._row_of = {}
        self.labels = tuple(labels)
        self.endResetModel()

    def set_roots(self, paths: Sequence[str | Path]) -> None:
        """The folders that were dropped: file names are shown relative to them."""
        folders = [Path(p) for p in paths if Path(p).is_dir()]
        self.roots = sorted(folders + [f.resolve() for f in folders], key=lambda f: -len(f.parts))

    def add_predictions(self, predictions: Sequence[Any]) -> None:
        if not predictions:
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(predictions) - 1)
        for i, pred in enumerate(predictions):
            self._rows.append(pred)
            if pred.path:
                self._row_of[str(pred.path)] = first + i
        self.endInsertRows()

    def prediction(self, row: int) -> Any:
        return self._rows[row]

    def predictions(self) -> list[Any]:
        return list(self._rows)

    def counts(self) -> tuple[int, int, int]:
        """(rows, errors, unsure)."""
        errors = sum(1 for p in self._rows if p.error)
        unsure = sum(1 for p in self._rows if not p.error and p.unsure)
        return len(self._rows), errors, unsure

    def out_of_scope_count(self) -> int:
        return sum(1 for p in self._rows if out_of_scope(p))

    # --- Qt model API -------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        pred = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(pred, col)
        if role == SORT_ROLE:
            return self._sort_key(pred, col, index.row())
        if role == Qt.ItemDataRole.DecorationRole:
            if col == COL_PREVIEW and self._thumbs is not None and pred.path:
                return self._thumbs.get(str(pred.path))
            if col == COL_CLASS and pred.error:
                return self._warning_icon()
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == COL_FILE:
                return str(pred.path or "")
            if col in (COL_CLASS, COL_ERROR) and pred.error:
                return pred.error
            if col in (COL_CLASS, COL_SCOPE) and out_of_scope(pred):
                return pred.scope.reason
            if col == COL_SCOPE and pred.ok and pred.scope is not None and pred.scope.in_scope is None:
                return f"Not checked: {pred.scope.reason}" if pred.scope.reason else "Not checked"
            if col == COL_CLASS and pred.ok and pred.unsure:
                return f"Not confident: best guess {pred.label} ({percent_text(pred.probability)})"
        if role == Qt.ItemDataRole.ForegroundRole and out_of_scope(pred) and col in (COL_CLASS, COL_PROB, COL_TOP):
            return QApplication.palette().color(QPalette.ColorRole.PlaceholderText)  # greyed, as in the bars
        if role == Qt.ItemDataRole.TextAlignmentRole and col == COL_PROB:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _warning_icon(self) -> Any:
        if self._error_icon is None:
            self._error_icon = QApplication.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        return self._error_icon

    def _display(self, pred: Any, col: int) -> Any:
        if col == COL_FILE:
            return relative_name(pred.path, self.roots) if pred.path else "(pasted image)"
        if col == COL_ERROR:
            return pred.error or ""
        if pred.error:
            return f"{ERROR_TEXT}: {pred.error}" if col == COL_CLASS else ""
        if col == COL_CLASS:
            if out_of_scope(pred):
                return f"{pred.label} ({OUT_OF_SCOPE_TEXT})"
            return f"{pred.label} ({UNSURE_TEXT})" if pred.unsure else pred.label
        if col == COL_SCOPE:
            return scope_text(pred)
        if col == COL_PROB:
            return percent_text(pred.probability)
        if col == COL_TOP:
            return top_k_text(pred.top_k)
        return None

    def _sort_key(self, pred: Any, col: int, row: int) -> Any:
        if col == COL_PREVIEW:
            return row
        if col == COL_FILE:
            return relative_name(pred.path, self.roots).lower() if pred.path else ""
        if col == COL_CLASS:
            return "" if pred.error else (pred.label or "").lower()
        if col == COL_PROB:
            return -1.0 if pred.error else float(pred.probability)
        if col == COL_SCOPE:
            return scope_text(pred)
        if col == COL_TOP:
            return "" if pred.error else (pred.top_k[0][0] if pred.top_k else "")
        return pred.error or ""

    def _thumbnail_ready(self, path: str) -> None:
        row = self._row_of.get(path)
        if row is not None:
            index = self.index(row, COL_PREVIEW)
            emit(self.dataChanged, index, index, [Qt.ItemDataRole.DecorationRole])


FILTERS = ("all", "ok", "unsure", "out_of_scope", "errors")


class ResultsFilter(QSortFilterProxyModel):
    """Sorts by the model's sort keys and filters by class and by status."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self._label = ""
        self._status = "all"

    def set_label(self, label: str) -> None:
        """Only rows predicted as ``label`` ("" for every class)."""
        self._change_filter(label=label)

    def set_status(self, status: str) -> None:
        """One of :data:`FILTERS`: all rows, confident ones, unsure ones, out-of-scope ones, or errors."""
        if status not in FILTERS:
            raise ValueError(f"unknown filter {status!r}; expected one of {FILTERS}")
        self._change_filter(status=status)

    def _change_filter(self, *, label: str | None = None, status: str | None = None) -> None:
        modern = hasattr(self, "beginFilterChange")  # Qt >= 6.9 deprecates invalidateFilter()
        if modern:
            self.beginFilterChange()
        if label is not None:
            self._label = label
        if status is not None:
            self._status = status
        if modern:
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            self.invalidateFilter()

    @property
    def filtering(self) -> bool:
        return self._status != "all" or bool(self._label)

    def filterAcceptsRow(self, source_row: int, source_parent: _Index) -> bool:  # noqa: N802
        return self.accepts(self.sourceModel().prediction(source_row))  # type: ignore[attr-defined]

    def accepts(self, pred: Any) -> bool:
        """Whether the current filter shows ``pred``."""
        if self._status == "errors" and not pred.error:
            return False
        if self._status == "ok" and (pred.error or pred.unsure or out_of_scope(pred)):
            return False
        if self._status == "out_of_scope" and not out_of_scope(pred):
            return False
        if self._status == "unsure" and (pred.error or not pred.unsure):
            return False
        return not self._label or (not pred.error and pred.label == self._label)

    def visible_predictions(self) -> list[Any]:
        """The rows the view shows, in its order (what export and sorting use)."""
        source = self.sourceModel()
        return [source.prediction(self.mapToSource(self.index(r, 0)).row()) for r in range(self.rowCount())]  # type: ignore[attr-defined]
