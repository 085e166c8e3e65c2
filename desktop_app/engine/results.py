"""CSV / JSON result files, streamed and written atomically.

Rows go to a temporary file next to the destination as they come; only a
successful close renames it into place (``os.replace``), so a crash or an
error never leaves a half-written file and never damages an existing one.

Columns: ``path, label, probability, unsure, top_k, <one per class>, error``;
``top_k`` reads ``"cat:0.91;dog:0.05;..."``. Probabilities keep 6
significant digits (float32 carries about 7). JSON is a list of objects with
the same keys; ``top_k`` there is a list of ``[label, probability]`` pairs.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from pathlib import Path
from types import TracebackType
from typing import IO, Iterable, Sequence

from desktop_app.engine.classifier import Prediction

FORMATS = {".csv": "csv", ".json": "json"}
FIXED_COLUMNS = ("path", "label", "probability", "unsure", "top_k", "error")


def class_columns(labels: Sequence[str]) -> list[str]:
    """Column name per class: the label, or ``p_<label>`` if it clashes with a fixed column."""
    return [f"p_{label}" if label in FIXED_COLUMNS else label for label in labels]


def _number(value: float | None) -> float | None:
    return None if value is None else float(f"{value:.6g}")


def prediction_row(
    prediction: Prediction, labels: Sequence[str], top_k: int = 3, *, columns: Sequence[str] | None = None
) -> dict:
    """One result as a flat dict of plain values (column order = key order).

    ``columns``: ``class_columns(labels)``, when the caller already has it.
    """
    probabilities = prediction.probabilities
    row: dict = {
        "path": prediction.path or "",
        "label": prediction.label,
        "probability": _number(prediction.probability),
        "unsure": prediction.unsure if prediction.ok else None,
        "top_k": [[label, _number(p)] for label, p in prediction.top_k[:top_k]],
    }
    names = class_columns(labels) if columns is None else columns
    if probabilities is None:
        row.update(dict.fromkeys(names))
    else:
        row.update(zip(names, (_number(p) for p in probabilities.tolist())))
    row["error"] = prediction.error
    return row


def _number_text(value: float) -> str:
    """``value`` to 6 significant digits, the same text as ``repr(_number(value))`` (``1.0``, ``0.25``, ``3e-05``)."""
    text = f"{value:.6g}"
    return text if "." in text or "e" in text or "n" in text else text + ".0"


def csv_cells(prediction: Prediction, top_k: int, n_classes: int) -> list:
    """The CSV row of ``prediction``: :func:`prediction_row`'s values in column order, as the CSV shows them.

    Built directly rather than from the row dict: 9 instead of 16 us per row
    (tests/engine/test_results.py checks that the text is the same).
    """
    if not prediction.ok:
        return [prediction.path or "", "", "", "", "", *([""] * n_classes), prediction.error]
    top = ";".join(f"{label}:{p:.6g}" for label, p in prediction.top_k[:top_k])
    probabilities = prediction.probabilities
    classes = [""] * n_classes if probabilities is None else [_number_text(p) for p in probabilities.tolist()]
    probability = "" if prediction.probability is None else _number_text(prediction.probability)
    return [prediction.path or "", prediction.label or "", probability, prediction.unsure, top, *classes, ""]


class ResultWriter:
    """Context manager writing predictions one by one; see the module doc."""

    def __init__(self, path: str | Path, labels: Sequence[str], *, top_k: int = 3, fmt: str | None = None) -> None:
        self.path = Path(path)
        self.labels = list(labels)
        self.top_k = top_k
        self.fmt = fmt or FORMATS.get(self.path.suffix.lower())
        if self.fmt not in ("csv", "json"):
            raise ValueError(f"{self.path.name}: results are written as .csv or .json, not {self.path.suffix!r}")
        self.count = 0
        self._file: IO[str] | None = None
        self._tmp: Path | None = None
        self._csv = None  # csv.writer while writing CSV
        self._class_columns = class_columns(self.labels)

    def __enter__(self) -> "ResultWriter":
        folder = self.path.resolve().parent
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=folder)
        self._tmp = Path(tmp)
        self._file = os.fdopen(fd, "w", encoding="utf-8", newline="")
        columns = [*FIXED_COLUMNS[:-1], *self._class_columns, "error"]
        if self.fmt == "csv":
            self._csv = csv.writer(self._file)
            self._csv.writerow(columns)
        else:
            self._file.write("[")
        return self

    def write(self, prediction: Prediction) -> None:
        if self._file is None:
            raise RuntimeError("ResultWriter.write() outside its 'with' block")
        if self._csv is not None:
            self._csv.writerow(csv_cells(prediction, self.top_k, len(self.labels)))
        else:
            row = prediction_row(prediction, self.labels, self.top_k, columns=self._class_columns)
            self._file.write(("\n  " if self.count == 0 else ",\n  ") + json.dumps(row, ensure_ascii=False))
        self.count += 1

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._file is not None and self._tmp is not None
        try:
            if exc_type is None:
                if self.fmt == "json":
                    self._file.write("\n]\n" if self.count else "]\n")
                self._file.flush()
                os.fsync(self._file.fileno())
            self._file.close()
            if exc_type is None:
                # mkstemp makes 0600 files; keep an existing file's mode, else the usual 0644
                mode = self.path.stat().st_mode & 0o777 if self.path.exists() else 0o644
                os.chmod(self._tmp, mode)
                os.replace(self._tmp, self.path)
        finally:
            self._file = None
            if self._tmp.exists():
                self._tmp.unlink()


def open_result_writer(path: str | Path, labels: Sequence[str], *, top_k: int = 3, fmt: str | None = None) -> ResultWriter:
    """A :class:`ResultWriter` (use it in a ``with`` block)."""
    return ResultWriter(path, labels, top_k=top_k, fmt=fmt)


def write_results(path: str | Path, predictions: Iterable[Prediction], labels: Sequence[str], *, top_k: int = 3) -> Path:
    """Write all ``predictions`` (any iterable, consumed lazily) and return the path."""
    with open_result_writer(path, labels, top_k=top_k) as writer:
        for prediction in predictions:
            writer.write(prediction)
    return Path(path)
