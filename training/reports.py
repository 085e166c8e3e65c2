"""Training reports: ``report.json`` I/O, its ONNX metadata view, and PNG charts.

Charts use Matplotlib's object API on the Agg canvas (no ``pyplot`` global
state, no display needed, safe in worker threads); Matplotlib is imported only
when a chart is drawn. The report format is described in
``docs/results-format.md``.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

REPORT_NAME = "report.json"
#: Keys ``load_report`` insists on; everything else is optional.
REQUIRED_KEYS = ("model", "labels", "metrics")

# Keras names the accuracy metric differently depending on how it was given.
_ACCURACY_KEYS = ("accuracy", "categorical_accuracy", "sparse_categorical_accuracy", "acc")


class ReportError(ValueError):
    """A report file is missing or cannot be read; the message says which and why."""


def to_jsonable(value: Any) -> Any:
    """Convert NumPy scalars/arrays, paths, tuples and sets to plain JSON values.

    Non-finite floats become ``None`` (JSON has no NaN or infinity).
    """
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return to_jsonable(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if value is None or isinstance(value, (str, int, bool)):
        return value
    raise TypeError(f"cannot store a {type(value).__name__} in a report: {value!r}")


def _read_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()  # read once: os.umask can only be read by setting it


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    """Write ``data`` next to ``path`` and rename it into place (no half-written file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the usual permissions
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_report(run_dir: str | Path, report: Mapping[str, Any]) -> Path:
    """Write ``report`` as ``<run_dir>/report.json`` atomically and return its path."""
    text = json.dumps(to_jsonable(report), indent=2, ensure_ascii=False, allow_nan=False)
    return atomic_write_bytes(Path(run_dir) / REPORT_NAME, (text + "\n").encode("utf-8"))


def load_report(path_or_run_dir: str | Path, *, validate: bool = True) -> dict[str, Any]:
    """Read a ``report.json`` (or the one inside a run folder).

    Raises :class:`ReportError` when the file is missing, is not JSON, is not
    a JSON object, or (with ``validate``) lacks one of :data:`REQUIRED_KEYS`.
    """
    path = Path(path_or_run_dir)
    if path.is_dir():
        path = path / REPORT_NAME
    if not path.is_file():
        raise ReportError(f"{path}: no such report (a training run writes report.json into its --out folder)")
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ReportError(f"{path}: not a text file ({exc.reason})") from exc
    except json.JSONDecodeError as exc:
        raise ReportError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from exc
    if not isinstance(report, dict):
        raise ReportError(f"{path}: expected a JSON object, found {type(report).__name__}")
    missing = [key for key in REQUIRED_KEYS if key not in report] if validate else []
    if missing:
        raise ReportError(f"{path}: not a training report, missing {', '.join(missing)}")
    return report


def report_to_metadata(report: Mapping[str, Any]) -> dict[str, Any]:
    """The ONNX contract metadata (``METADATA_KEYS``) for a training report.

    ``calibration`` is folded into ``training`` (the export bakes its
    temperature into the graph); the epoch-by-epoch history is left out.
    Feed the result to ``desktop_app.engine.contract.encode_metadata``.
    """
    from desktop_app.engine.contract import FORMAT_VERSION

    labels = list(report.get("labels") or [])
    if not labels:
        raise ReportError("the report has no labels; cannot describe the model's outputs")
    training = dict(report.get("training") or {})
    if report.get("calibration"):
        training["calibration"] = dict(report["calibration"])
    metadata = {
        "labels": [str(label) for label in labels],
        "display_name": report.get("display_name") or report.get("model") or "",
        "description": report.get("description", ""),
        "architecture": report.get("architecture", ""),
        "dataset": report.get("dataset", ""),
        "params": int(report["params"]) if report.get("params") is not None else None,
        "metrics": dict(report.get("metrics") or {}),
        "training": training,
        "format_version": FORMAT_VERSION,
    }
    return to_jsonable({k: v for k, v in metadata.items() if v is not None})


# --------------------------------------------------------------------------- charts


def new_figure(figsize: tuple[float, float] = (6.0, 4.0), dpi: int = 100) -> Any:
    """A Matplotlib ``Figure`` on the Agg canvas (no pyplot, no display)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: Any, path: str | Path) -> Path:
    """Render ``fig`` to a PNG at ``path`` atomically and return the path."""
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return atomic_write_bytes(Path(path), buffer.getvalue())


def _series(history: Mapping[str, Sequence[float]], keys: Sequence[str], prefix: str = "") -> list[float] | None:
    for key in keys:
        values = history.get(prefix + key)
        if values is not None and len(values):
            return [float("nan") if v is None else float(v) for v in values]
    return None


def plot_history(history: Mapping[str, Sequence[float]], path: str | Path, *, title: str = "") -> Path:
    """Accuracy and loss per epoch, training and validation, as one two-panel PNG.

    The best validation-accuracy epoch is marked (the checkpoint a run keeps).
    """
    from matplotlib.ticker import MaxNLocator

    panels = [("accuracy", _ACCURACY_KEYS), ("loss", ("loss",))]
    curves = {name: (_series(history, keys), _series(history, keys, "val_")) for name, keys in panels}
    if not any(train or val for train, val in curves.values()):
        raise ValueError(f"history has no accuracy or loss series (keys: {sorted(history)})")
    fig = new_figure(figsize=(10, 4))
    axes = fig.subplots(1, 2)
    for ax, (name, (train, val)) in zip(axes, curves.items()):
        for values, label, style in ((train, "training", "-"), (val, "validation", "-")):
            if values:
                ax.plot(range(1, len(values) + 1), values, style, marker="." if len(values) < 30 else None, label=label)
        if name == "accuracy" and val:
            best = int(np.nanargmax(val))
            ax.axvline(best + 1, color="gray", linestyle=":", linewidth=1)
            ax.annotate(
                f"best {100 * val[best]:.2f}%",
                (best + 1, val[best]),
                fontsize=8,
                textcoords="offset points",
                xytext=(-40, -14),
            )
        ax.set(xlabel="epoch", ylabel=name, title=name)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        if train or val:
            ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)


def plot_confusion(
    matrix: Sequence[Sequence[int]] | np.ndarray,
    labels: Sequence[str],
    path: str | Path,
    normalize: bool = True,
    *,
    title: str = "",
) -> Path:
    """Confusion-matrix heatmap PNG (rows = true, columns = predicted).

    With ``normalize`` each row is shown in percent of that class's images,
    with the count underneath; otherwise the counts alone.
    """
    counts = np.asarray(matrix, dtype=np.int64)
    n = len(labels)
    if counts.shape != (n, n):
        raise ValueError(f"confusion matrix has shape {counts.shape}, expected ({n}, {n}) for {n} labels")
    totals = counts.sum(axis=1, keepdims=True)
    shown = np.divide(100.0 * counts, totals, out=np.zeros(counts.shape), where=totals > 0) if normalize else counts
    size = max(4.0, 0.6 * n + 2.0)
    fig = new_figure(figsize=(size + 1, size))
    ax = fig.subplots()
    image = ax.imshow(shown, cmap="Blues", vmin=0, vmax=100 if normalize else max(1, int(counts.max())))
    fig.colorbar(image, ax=ax, label="% of true class" if normalize else "images", shrink=0.8)
    threshold = (100 if normalize else max(1, counts.max())) / 2
    font = 7 if n > 8 else 9
    for i in range(n):
        for j in range(n):
            text = f"{shown[i, j]:.0f}%\n{counts[i, j]}" if normalize else f"{counts[i, j]}"
            colour = "white" if shown[i, j] > threshold else "black"
            ax.text(j, i, text, ha="center", va="center", fontsize=font, color=colour)
    ax.set_xticks(range(n), labels=list(labels), rotation=45, ha="right")
    ax.set_yticks(range(n), labels=list(labels))
    ax.set(xlabel="predicted", ylabel="true")
    ax.set_title(title or "confusion matrix")
    return save_figure(fig, path)
