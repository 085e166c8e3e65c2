"""Model insight: what a model is, how well it did on its test set, how it was trained.

Everything comes from the model file's own metadata (``ModelInfo``): the
architecture and size, test accuracy and loss, per-class precision / recall /
F1, the confusion matrix as a heatmap, and the training recipe; and which
second opinion goes beside its answers (scope check, novelty check, none).
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_app.ui.heatmap import ConfusionHeatmap
from desktop_app.ui.tables import text_table
from desktop_app.ui.text import accuracy_text


def _looks_like_path(text: str) -> bool:
    return ("/" in text or "\\" in text) and " " not in text


def _fmt(key: str, value: Any) -> str:
    """One training value as text: numbers rounded, lists joined, file paths reduced to the file name
    (the training machine's folders mean nothing here)."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if key.endswith(("_s", "seconds")):
            return f"{value:,.1f} s"
        if "accuracy" in key:
            return accuracy_text(value)
        return f"{value:.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, list):
        if not value:
            return "none"
        numbers = sorted(v for v in value if isinstance(v, (int, float)) and not isinstance(v, bool))
        if len(value) > 8 and len(numbers) == len(value):  # e.g. seconds per epoch: a summary, not 200 numbers
            low, mid, high = (_fmt(key, float(v)) for v in (numbers[0], numbers[len(numbers) // 2], numbers[-1]))
            return f"{len(value)} values: min {low}, median {mid}, max {high}"
        return ", ".join(_fmt(key, v) for v in value)
    text = str(value)
    if _looks_like_path(text):
        return PurePosixPath(text.replace("\\", "/")).name
    return text


def _nice(key: str) -> str:
    """ "time_budget_s" -> "Time budget" (the unit goes with the value)."""
    return key.removesuffix("_s").replace("_", " ").capitalize()


def training_rows(training: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(section, setting, value) rows: top-level values under "Run", every nested dict its own section."""
    rows = [("Run", _nice(k), _fmt(k, v)) for k, v in training.items() if not isinstance(v, dict)]
    for key, value in training.items():
        if isinstance(value, dict):
            rows += [(_nice(key), _nice(k), _fmt(k, v)) for k, v in value.items() if not isinstance(v, dict)]
    return rows


def _label(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def overview_rows(info: Any) -> list[tuple[str, str]]:
    """(field, text) pairs for the overview tab; missing values say so."""
    metrics = info.metrics or {}
    acc = info.test_accuracy
    loss = metrics.get("test_loss")
    n_test = metrics.get("num_test_images")
    h, w = info.input_size
    return [
        ("Name", info.display_name),
        ("File", str(info.path)),
        ("Stored as", stored_as(info)),
        ("Description", info.description or "-"),
        ("Architecture", info.architecture or "-"),
        ("Parameters", f"{info.params:,}" if info.params is not None else "-"),
        ("Dataset", info.dataset or "-"),
        ("Input", f"{w} x {h} RGB"),
        ("Classes", classes_summary(info.labels)),
        ("Second opinion", second_opinion_text(info)),
        ("Test accuracy", accuracy_text(acc) if acc is not None else "not recorded"),
        ("Test loss", f"{loss:.4f}" if isinstance(loss, (int, float)) else "not recorded"),
        ("Test images", f"{n_test:,}" if isinstance(n_test, int) else "-"),
    ]


def classes_summary(labels: Any, shown: int = 12) -> str:
    """ "10: airplane, ..., truck"; a long list is cut after ``shown`` names ("... 1,000 in all")."""
    labels = list(labels)
    text = ", ".join(labels[:shown])
    return f"{len(labels):,}: {text}" + (f", ... ({len(labels):,} in all)" if len(labels) > shown else "")


def second_opinion_text(info: Any) -> str:
    """Whether a check says "this photo shows none of the model's classes" beside its answers."""
    from desktop_app.engine.derived import is_derived
    from desktop_app.engine.scope import DEFAULT_SCOPE_THRESHOLD, has_scope_check, is_general_model
    from desktop_app.engine.taught_models import is_taught

    if is_general_model(info):
        return "General model (ImageNet classes): it is the one that checks the CIFAR-10 models; no check of its own"
    if is_derived(info):
        return 'Built in: the general model\'s answer, with a "none of the ten" share'
    if has_scope_check(info):
        return (
            "Scope check: the general ImageNet model looks at each photo too and calls it out of scope "
            f"when less than {DEFAULT_SCOPE_THRESHOLD:.0%} of its probability falls on the ten classes"
        )
    if is_taught(info):
        return "Novelty check: a photo far from every class it was taught is called unlike anything taught"
    return "None: every photo gets one of its classes"


def stored_as(info: Any) -> str:
    """Precision and size of the file, e.g. "int8, 27.3 MiB (the float32 model: 89.84% test accuracy)"."""
    try:
        text = f"{info.stored_as}, {Path(info.path).stat().st_size / 2**20:.1f} MiB"
    except OSError:
        text = info.stored_as
    full = info.float32_test_accuracy
    if info.stored_as != "float32" and full is not None:
        text += f" (the float32 model: {accuracy_text(full)} test accuracy)"
    return text


def per_class_rows(info: Any) -> list[tuple[str, str, str, str, str]]:
    """(class, precision, recall, F1, support) as text, in label order."""
    per_class = (info.metrics or {}).get("per_class") or {}
    rows = []
    for label in info.labels:
        entry = per_class.get(label) or {}

        def num(key: str, entry: dict = entry) -> str:
            v = entry.get(key)
            return f"{v:.3f}" if isinstance(v, float) else ("-" if v is None else str(v))

        rows.append((label, num("precision"), num("recall"), num("f1"), num("support")))
    return rows


class ModelDialog(QDialog):
    """Tabs: Overview, Per class, Confusion matrix, Training."""

    def __init__(self, info: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Model: {info.display_name}")
        self.info = info
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self._overview(), "&Overview")
        self.tabs.addTab(self._per_class(), "&Per class")
        self.tabs.addTab(self._confusion(), "&Confusion matrix")
        self.tabs.addTab(self._training(), "&Training")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(buttons)
        self.resize(640, 560)

    def _overview(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        for name, text in overview_rows(self.info):
            form.addRow(f"{name}:", _label(text))
        return page

    def _per_class(self) -> QWidget:
        rows = per_class_rows(self.info)
        self.per_class_table = text_table(
            ["Class", "Precision", "Recall", "F1", "Test images"], rows, right_aligned_from=1
        )
        return self.per_class_table

    def _confusion(self) -> QWidget:
        matrix = (self.info.metrics or {}).get("confusion_matrix")
        if not (isinstance(matrix, list) and len(matrix) == self.info.num_classes):
            return _label("This model's file does not record a confusion matrix.")
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(_label("Rows: true class. Columns: predicted class. Shade: share of the row."))
        self.heatmap = ConfusionHeatmap(self.info.labels, matrix, page)
        layout.addWidget(self.heatmap, 1)
        return page

    def _training(self) -> QWidget:
        training = self.info.training or {}
        if not training:
            return _label("This model's file does not record how it was trained.")
        rows = training_rows(training)
        self.training_table = text_table(["Part", "Setting", "Value"], rows, stretch_last_only=True)
        return self.training_table
