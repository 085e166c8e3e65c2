"""The batch page: results table with filters, a detail pane, and progress with Cancel.

The view owns its widgets and the table/proxy models; the main window starts
batches, feeds results in (``add_predictions``) and wires the Export / Sort /
Cancel actions to its own handlers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QItemSelection, QSize, Qt, Signal
from PySide6.QtGui import QAction, QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.ui.probability_bars import MAX_ALL_BARS
from desktop_app.ui.result_panel import ResultPanel
from desktop_app.ui.results_table import (
    COL_CLASS,
    COL_FILE,
    COL_PREVIEW,
    COL_SCOPE,
    COL_TOP,
    FILTERS,
    ResultsFilter,
    ResultsModel,
    out_of_scope,
)
from desktop_app.ui.signals import emit
from desktop_app.ui.text import plural
from desktop_app.ui.thumbnails import ThumbnailCache

_STATUS_NAMES = {
    "all": "All results",
    "ok": "Confident",
    "unsure": "Unsure",
    "out_of_scope": "Out of scope",
    "errors": "Errors",
}


def progress_text(progress: Any, *, finished: bool = False, cancelled: bool = False) -> str:
    """ "120 / 4,000 images · 512 img/s · about 8 s left · 2 errors"."""
    total = f" / {progress.total:,}" if progress.total is not None else ""
    parts = [f"{progress.done:,}{total} images" if total else plural(progress.done, "image")]
    if progress.rate:
        parts.append(f"{progress.rate:,.0f} img/s")
    if cancelled:
        parts.append("cancelled")
    elif finished:
        parts.append(f"done in {progress.elapsed_s:.1f} s")
    elif progress.eta_s is not None:
        parts.append(f"about {progress.eta_s:,.0f} s left")
    if progress.failed:
        parts.append(plural(progress.failed, "error"))
    return " · ".join(parts)


def summary_text(shown: int, rows: int, unsure: int, errors: int, out_of_scope: int = 0) -> str:
    """ "964 of 2,003 shown · 136 unsure · 12 out of scope · 3 errors" (counts of what the filter
    shows; "out of scope" only when there are any)."""
    if not rows:
        return ""
    first = plural(rows, "image") if shown == rows else f"{shown:,} of {rows:,} shown"
    parts = [first, f"{unsure:,} unsure"]
    if out_of_scope:
        parts.append(f"{out_of_scope:,} out of scope")
    return " · ".join([*parts, plural(errors, "error")])


class BatchView(QWidget):
    """Table of results + filters + detail pane + progress bar."""

    #: A row was selected: the engine Prediction behind it.
    prediction_selected = Signal(object)
    #: The user asked to classify the batch's paths again (after a model change).
    rerun_requested = Signal()

    def __init__(self, thumbnails: ThumbnailCache, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.thumbnails = thumbnails
        self.model = ResultsModel(thumbnails, self)
        self.proxy = ResultsFilter(self)
        self.proxy.setSourceModel(self.model)

        self.status_filter = QComboBox(self)
        for key in FILTERS:
            self.status_filter.addItem(_STATUS_NAMES[key], key)
        self.status_filter.setToolTip(
            "Show all rows, only confident ones, only unsure ones, only photos of none of the model's classes "
            "(out of scope), or only errors"
        )
        self.status_filter.currentIndexChanged.connect(lambda: self.proxy.set_status(self.status_filter.currentData()))
        self.class_filter = QComboBox(self)
        self.class_filter.setToolTip("Show only the images predicted as this class")
        self.class_filter.currentIndexChanged.connect(
            lambda: self.proxy.set_label(self.class_filter.currentData() or "")
        )
        self.summary = QLabel(self)
        self.summary.setAccessibleName("Batch summary")
        self.source = QLabel(self)  # which model (and device) made the rows
        self.source.setAccessibleName("Model of these results")
        self.rerun_button = QPushButton(self)
        self.rerun_button.setToolTip("Classify the same files again with the model now chosen")
        self.rerun_button.clicked.connect(lambda: emit(self.rerun_requested))
        self.rerun_button.hide()
        self._buttons = QHBoxLayout()
        self._listed_on_arrival = False  # class filter filled from the rows (many-class models)

        top = QHBoxLayout()
        top.addWidget(QLabel("&Show:", self, buddy=self.status_filter))
        top.addWidget(self.status_filter)
        top.addWidget(QLabel("C&lass:", self, buddy=self.class_filter))
        top.addWidget(self.class_filter)
        top.addWidget(self.summary, 1)
        top.addLayout(self._buttons)
        source_row = QHBoxLayout()
        source_row.addWidget(self.source, 1)
        source_row.addWidget(self.rerun_button)

        self.table = QTableView(self)
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(COL_PREVIEW, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setIconSize(QSize(thumbnails.side, thumbnails.side))
        self.table.verticalHeader().setDefaultSectionSize(thumbnails.side + 6)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(COL_PREVIEW, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(COL_PREVIEW, thumbnails.side + 24)
        header.resizeSection(COL_FILE, 200)
        header.resizeSection(COL_CLASS, 170)  # "airplane (out of scope)" without eliding
        header.resizeSection(COL_SCOPE, 120)
        header.resizeSection(COL_TOP, 260)
        header.setStretchLastSection(True)
        self.table.setAccessibleName("Batch results")
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        for signal in (
            self.proxy.rowsInserted,
            self.proxy.rowsRemoved,
            self.proxy.modelReset,
            self.proxy.layoutChanged,
        ):
            signal.connect(self._update_summary)

        self.preview = QLabel(self)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumSize(160, 100)
        # The pixmap must not claim its own size: the bars below it keep their room.
        self.preview.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.preview.setAccessibleName("Selected image")
        self.detail = ResultPanel(self, title_scale=1.6)
        self.detail.show_message("No row selected", "Select a row to see the image and all class probabilities.")
        side = QWidget(self)
        side.setMinimumWidth(220)  # the bars never get clipped by the splitter
        side_layout = QVBoxLayout(side)
        side_layout.addWidget(self.preview, 2)
        side_layout.addWidget(self.detail, 3)  # room for the verdict, its scope line and eleven bars
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self.table)
        splitter.addWidget(side)
        splitter.setChildrenCollapsible(False)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)

        self.progress = QProgressBar(self)
        self.progress.setTextVisible(True)
        self.progress_label = QLabel(self)
        self.cancel_button = QToolButton(self)
        bottom = QHBoxLayout()
        bottom.addWidget(self.progress, 1)
        bottom.addWidget(self.progress_label)
        bottom.addWidget(self.cancel_button)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(source_row)
        layout.addWidget(splitter, 1)
        layout.addLayout(bottom)
        self.setTabOrder(self.status_filter, self.class_filter)
        self.setTabOrder(self.class_filter, self.table)
        self.set_labels(())

    # --- wiring -------------------------------------------------------------
    def add_action_button(self, action: QAction) -> QToolButton:
        button = QToolButton(self)
        button.setDefaultAction(action)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self._buttons.addWidget(button)
        return button

    def set_cancel_action(self, action: QAction) -> None:
        self.cancel_button.setDefaultAction(action)
        self.cancel_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)

    # --- state --------------------------------------------------------------
    def set_labels(self, labels: Sequence[str]) -> None:
        """Fill the class filter with the batch model's classes and clear the rows."""
        self.thumbnails.clear()
        self.model.reset(labels)
        # A many-class model (the general model's 1,000) lists only the classes its rows got, as they come.
        self._listed_on_arrival = len(labels) > MAX_ALL_BARS
        self.class_filter.blockSignals(True)
        self.class_filter.clear()
        self.class_filter.addItem("All classes", "")
        for label in () if self._listed_on_arrival else labels:
            self.class_filter.addItem(label, label)
        self.class_filter.blockSignals(False)
        self.proxy.set_label("")
        self.clear_detail()
        self.rerun_button.hide()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress_label.clear()
        self._update_summary()

    def set_roots(self, paths: Sequence[str]) -> None:
        """The dropped paths: file names are shown relative to the dropped folders."""
        self.model.set_roots(paths)

    def set_source(self, model_name: str, device: str) -> None:
        """Say which model (and device) made these rows."""
        self.source.setText(f"Results of {model_name} ({device})")

    def show_rerun_offer(self, model_name: str | None) -> None:
        """Offer to classify the batch again with ``model_name`` (None hides the offer)."""
        if model_name is None:
            self.rerun_button.hide()
            return
        self.rerun_button.setText(f"Re-run with {model_name}")
        self.rerun_button.show()

    def clear_detail(self) -> None:
        self.detail.show_message("No row selected", "Select a row to see the image and all class probabilities.")
        self.preview.clear()

    def start(self) -> None:
        self.progress.setRange(0, 0)  # busy until the engine knows the total
        self.progress_label.setText("Looking for images...")

    def add_predictions(self, predictions: Sequence[Any]) -> None:
        self.model.add_predictions(predictions)
        if self._listed_on_arrival:
            self._list_classes({p.label for p in predictions if p.ok})
        self._update_summary()

    def _list_classes(self, labels: set[str]) -> None:
        """Add ``labels`` not yet in the class filter, keeping it sorted (the choice stays)."""
        listed = {self.class_filter.itemData(i) for i in range(1, self.class_filter.count())}
        for label in sorted(labels - listed, key=str.lower):
            at = next(
                (
                    i
                    for i in range(1, self.class_filter.count())
                    if self.class_filter.itemData(i).lower() > label.lower()
                ),
                self.class_filter.count(),
            )
            self.class_filter.insertItem(at, label, label)

    def show_progress(self, progress: Any, *, finished: bool = False, cancelled: bool = False) -> None:
        if progress.total:
            self.progress.setRange(0, progress.total)
            self.progress.setValue(progress.done)
        elif finished:
            self.progress.setRange(0, 1)
            self.progress.setValue(1)
        self.progress_label.setText(progress_text(progress, finished=finished, cancelled=cancelled))

    def set_preview(self, image: QImage) -> None:
        if image.isNull():
            self.preview.setText("(no preview)")
            return
        pixmap = QPixmap.fromImage(image)
        pixmap.setDevicePixelRatio(self.devicePixelRatioF())
        size = self.preview.size() * self.devicePixelRatioF()
        scaled = pixmap.scaled(size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
        scaled.setDevicePixelRatio(self.devicePixelRatioF())
        self.preview.setPixmap(scaled)

    def _update_summary(self) -> None:
        rows = self.model.predictions()
        shown = [p for p in rows if self.proxy.accepts(p)] if self.proxy.filtering else rows
        errors = sum(1 for p in shown if p.error)
        unsure = sum(1 for p in shown if not p.error and p.unsure)
        outside = sum(1 for p in shown if out_of_scope(p))
        self.summary.setText(summary_text(len(shown), len(rows), unsure, errors, outside))

    def _selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        # The current selection, not the delta: when a filter hides the selected row the
        # selection becomes empty and the side panel is cleared instead of showing another row.
        indexes = self.table.selectionModel().selectedRows()
        if not indexes:
            self.clear_detail()
            return
        pred = self.model.prediction(self.proxy.mapToSource(indexes[0]).row())
        self.detail.show_prediction(pred, self.model.labels)
        emit(self.prediction_selected, pred)
