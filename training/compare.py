"""Side-by-side comparison of trained runs, with the study's numbers beside ours.

``compare_runs`` reads each run's ``report.json`` and writes, into one folder,
``comparison.json`` (the numbers), ``comparison.md`` (tables for people),
``accuracy.png`` (ours vs the study, grouped bars) and ``per_class_f1.png``
(a models x classes heatmap). The study's figures come from the model
registry (``training.models.get_spec``), the one place that records them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from training.reports import atomic_write_bytes, load_report, new_figure, save_figure, to_jsonable

#: ``model name -> {"accuracy", "loss", "params"}`` (values may be None).
StudyLookup = Callable[[str], Mapping[str, Any]]

STUDY_NAME = 'the study "CNN vs. Transfer Learning" (STUDY.md)'


def registry_study_numbers(model: str) -> dict[str, Any]:
    """The study's reported accuracy, loss and parameter count for ``model`` (None where not reported)."""
    from training.models import get_spec

    try:
        spec = get_spec(model)
    except ValueError:  # a model the registry does not know: no study numbers
        return {"accuracy": None, "loss": None, "params": None}
    return {
        "accuracy": spec.study_accuracy,
        "loss": spec.study_loss,
        "params": spec.study_params,
    }


def _macro_f1(metrics: Mapping[str, Any]) -> float | None:
    if metrics.get("macro_f1") is not None:
        return float(metrics["macro_f1"])
    scores = [c.get("f1") for c in (metrics.get("per_class") or {}).values()]
    return float(np.mean(scores)) if scores and None not in scores else None


def summarize_run(report: Mapping[str, Any], run_dir: Path, study: Mapping[str, Any]) -> dict[str, Any]:
    """One comparison row: our numbers and the study's for one run."""
    metrics = report.get("metrics") or {}
    training = report.get("training") or {}
    calibration = report.get("calibration") or {}
    accuracy = metrics.get("test_accuracy")
    study_accuracy = study.get("accuracy")
    return {
        "model": report["model"],
        "display_name": report.get("display_name") or report["model"],
        "run_dir": str(run_dir),
        "params": report.get("params"),
        "test_accuracy": accuracy,
        "test_loss": metrics.get("test_loss"),
        "val_accuracy": metrics.get("val_accuracy"),
        "macro_f1": _macro_f1(metrics),
        "num_test_images": metrics.get("num_test_images"),
        "per_class_f1": {label: c.get("f1") for label, c in (metrics.get("per_class") or {}).items()},
        "temperature": calibration.get("temperature"),
        "ece_before": calibration.get("ece_before"),
        "ece_after": calibration.get("ece_after"),
        "duration_s": training.get("duration_s"),
        "epochs": training.get("epochs"),
        "hardware": training.get("hardware"),
        "dataset": report.get("dataset"),
        "study": dict(study),
        "accuracy_gain_points": (
            100.0 * (accuracy - study_accuracy) if accuracy is not None and study_accuracy is not None else None
        ),
    }


# --------------------------------------------------------------------------- formatting


def _pct(value: Any, digits: int = 2) -> str:
    return "—" if value is None else f"{100 * float(value):.{digits}f}%"


def _num(value: Any, digits: int = 4) -> str:
    return "—" if value is None else f"{float(value):.{digits}f}"


def _int(value: Any) -> str:
    return "—" if value is None else f"{int(value):,}"


def format_duration(seconds: Any) -> str:
    """``3725`` -> ``"1 h 2 min"``; ``None`` -> ``"—"``."""
    if seconds is None:
        return "—"
    s = int(round(float(seconds)))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    return f"{s // 3600} h {s % 3600 // 60} min"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def comparison_markdown(rows: Sequence[Mapping[str, Any]], labels: Sequence[str]) -> str:
    """The comparison as Markdown tables (overall, then per-class F1)."""
    overall = [
        [
            r["display_name"] if r["display_name"] == r["model"] else f"{r['display_name']} (`{r['model']}`)",
            _pct(r["test_accuracy"]),
            _pct(r["study"].get("accuracy")),
            "—" if r["accuracy_gain_points"] is None else f"{r['accuracy_gain_points']:+.2f}",
            _num(r["test_loss"]),
            _num(r["study"].get("loss")),
            _int(r["params"]),
            _int(r["study"].get("params")),
            _num(r["macro_f1"], 3),
            "—" if r["ece_before"] is None else f"{_pct(r['ece_before'])} → {_pct(r['ece_after'])}",
            format_duration(r["duration_s"]),
            "—" if r["epochs"] is None else str(r["epochs"]),
            str(r["hardware"] or "—"),
        ]
        for r in rows
    ]
    header = [
        "Model",
        "Test accuracy",
        "Study accuracy",
        "Gain (points)",
        "Test loss",
        "Study loss",
        "Parameters",
        "Study parameters",
        "Macro F1",
        "ECE before → after",
        "Training time",
        "Epochs",
        "Hardware",
    ]
    per_class = [[r["display_name"]] + [_num(r["per_class_f1"].get(label), 3) for label in labels] for r in rows]
    test_images = sorted({r["num_test_images"] for r in rows if r["num_test_images"] is not None})
    lines = [
        "# Model comparison",
        "",
        f'Our runs beside the numbers reported by {STUDY_NAME}; "—" where a number was not reported '
        f"or not measured. Test images: {', '.join(f'{n:,}' for n in test_images) or '—'} "
        "(the test split is used only for these final numbers, never for model selection). "
        "ECE: expected calibration error, 15 equal-width bins, on the test split, before and after "
        "temperature scaling fitted on the validation split.",
        "",
        *_table(header, overall),
        "",
        "## Per-class F1",
        "",
        *_table(["Model", *labels], per_class),
        "",
        "## Charts",
        "",
        "![Test accuracy, ours vs the study](accuracy.png)",
        "",
        "![Per-class F1](per_class_f1.png)",
        "",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------- charts


def plot_accuracy_bars(rows: Sequence[Mapping[str, Any]], path: str | Path) -> Path:
    """Grouped bars of test accuracy per model: ours and the study's (where reported)."""
    names = [r["display_name"] for r in rows]
    ours = [np.nan if r["test_accuracy"] is None else 100 * r["test_accuracy"] for r in rows]
    study = [np.nan if r["study"].get("accuracy") is None else 100 * r["study"]["accuracy"] for r in rows]
    x = np.arange(len(rows))
    fig = new_figure(figsize=(max(5.0, 1.6 * len(rows) + 2), 4.2))
    ax = fig.subplots()
    width = 0.38
    for offset, values, label, colour in (
        (-width / 2, ours, "ours", "#4C72B0"),
        (width / 2, study, "study", "#C4C4C4"),
    ):
        bars = ax.bar(x + offset, np.nan_to_num(values), width, label=label, color=colour)
        for bar, value in zip(bars, values):
            text = "n/a" if np.isnan(value) else f"{value:.1f}"
            ax.annotate(
                text,
                (bar.get_x() + bar.get_width() / 2, 0 if np.isnan(value) else value),
                ha="center",
                va="bottom",
                fontsize=8,
                xytext=(0, 2),
                textcoords="offset points",
            )
    ax.set_xticks(x, labels=names, rotation=15, ha="right")
    ax.set(ylabel="test accuracy (%)", ylim=(0, 115), title="Test accuracy: ours vs the study")
    ax.set_yticks(range(0, 101, 20))
    ax.legend(loc="upper right", ncols=2, fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return save_figure(fig, path)


def plot_per_class_f1(rows: Sequence[Mapping[str, Any]], labels: Sequence[str], path: str | Path) -> Path:
    """Heatmap of per-class F1, one row per model, one column per class."""
    values = np.array(
        [[np.nan if r["per_class_f1"].get(lab) is None else r["per_class_f1"][lab] for lab in labels] for r in rows],
        dtype=float,
    )
    fig = new_figure(figsize=(max(5.0, 0.75 * len(labels) + 3), max(2.5, 0.55 * len(rows) + 1.8)))
    ax = fig.subplots()
    # Start the colour scale near the lowest score so that 0.80 and 0.95 look different.
    low = float(np.floor(np.nanmin(values) * 10) / 10) if np.isfinite(values).any() else 0.0
    vmin = min(max(low, 0.0), 0.9)
    image = ax.imshow(np.ma.masked_invalid(values), cmap="viridis", vmin=vmin, vmax=1, aspect="auto")
    fig.colorbar(image, ax=ax, label="F1", shrink=0.8)
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            text = "—" if np.isnan(values[i, j]) else f"{values[i, j]:.2f}"
            colour = "black" if not np.isnan(values[i, j]) and values[i, j] > (vmin + 1) / 2 else "white"
            ax.text(j, i, text, ha="center", va="center", fontsize=8, color=colour)
    ax.set_xticks(range(len(labels)), labels=list(labels), rotation=45, ha="right")
    ax.set_yticks(range(len(rows)), labels=[r["display_name"] for r in rows])
    ax.set_title("Per-class F1 on the test split")
    return save_figure(fig, path)


# --------------------------------------------------------------------------- entry point


def compare_runs(
    run_dirs: Sequence[str | Path], out_dir: str | Path, *, study: StudyLookup | None = None
) -> dict[str, Any]:
    """Compare runs (folders or ``report.json`` files) and write the four files to ``out_dir``.

    Returns the comparison (what ``comparison.json`` holds) with the paths
    written under ``"files"``. ``study`` maps a model name to the study's
    numbers; by default they come from the model registry.
    """
    if not run_dirs:
        raise ValueError("nothing to compare: give at least one run folder or report.json")
    lookup = study or registry_study_numbers
    rows: list[dict[str, Any]] = []
    labels: list[str] = []
    for run in map(Path, run_dirs):
        report = load_report(run)
        rows.append(summarize_run(report, run if run.is_dir() else run.parent, lookup(report["model"])))
        labels += [str(lab) for lab in report["labels"] if str(lab) not in labels]
    seen = [r["display_name"] for r in rows]
    for r in rows:  # two runs of one model: tell them apart by folder
        if seen.count(r["display_name"]) > 1:
            r["display_name"] = f"{r['display_name']} ({Path(r['run_dir']).name})"
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    comparison = {"study": STUDY_NAME, "labels": labels, "models": rows}
    files = {
        "json": atomic_write_bytes(
            out / "comparison.json", json.dumps(to_jsonable(comparison), indent=2, allow_nan=False).encode()
        ),
        "markdown": atomic_write_bytes(out / "comparison.md", comparison_markdown(rows, labels).encode()),
        "accuracy_png": plot_accuracy_bars(rows, out / "accuracy.png"),
        "per_class_f1_png": plot_per_class_f1(rows, labels, out / "per_class_f1.png"),
    }
    return {**comparison, "files": {k: str(v) for k, v in files.items()}}
