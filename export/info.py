"""Human-readable summaries of an ONNX model file: ``check`` and ``info`` output."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from desktop_app.engine.contract import ModelInfo


def _percent(value: Any) -> str:
    return f"{100 * value:.2f}%" if isinstance(value, (int, float)) else "-"


def check_summary(info: ModelInfo) -> str:
    """One line saying what a valid model is."""
    height, width = info.input_size
    accuracy = f", test accuracy {_percent(info.test_accuracy)}" if info.test_accuracy is not None else ""
    return (
        f"OK: {info.path.name} - {info.display_name}: input '{info.input_name}' [N, {height}, {width}, 3] float32, "
        f"output '{info.output_name}' [N, {info.num_classes}] ({', '.join(info.labels)}){accuracy}"
    )


def _rows(pairs: list[tuple[str, str]]) -> list[str]:
    width = max((len(k) for k, _ in pairs), default=0)
    return [f"  {k.ljust(width)}  {v}" for k, v in pairs]


def _per_class_table(per_class: Mapping[str, Mapping[str, Any]]) -> list[str]:
    name_width = max([len("class")] + [len(n) for n in per_class])
    lines = [f"  {'class'.ljust(name_width)}  precision  recall     f1  support"]
    for name, scores in per_class.items():

        def num(key: str, scores: Mapping[str, Any] = scores) -> str:
            value = scores.get(key)
            return f"{value:.3f}" if isinstance(value, (int, float)) else "-"

        lines.append(
            f"  {name.ljust(name_width)}  {num('precision'):>9}  {num('recall'):>6}  {num('f1'):>5}  "
            f"{scores.get('support', '-'):>7}"
        )
    return lines


def _flatten(prefix: str, value: Any) -> list[tuple[str, str]]:
    if isinstance(value, Mapping):
        rows: list[tuple[str, str]] = []
        for key, inner in value.items():
            rows += _flatten(f"{prefix}.{key}" if prefix else str(key), inner)
        return rows
    text = value if isinstance(value, str) else json.dumps(value)
    return [(prefix, text)]


def info_text(info: ModelInfo, size_bytes: int | None = None) -> str:
    """The metadata of a model as a readable multi-section table."""
    m = info.metrics
    height, width = info.input_size
    model_rows = [
        ("file", str(info.path) + (f" ({size_bytes / 1024 / 1024:.2f} MiB)" if size_bytes else "")),
        ("display name", info.display_name),
        ("description", info.description or "-"),
        ("architecture", info.architecture or "-"),
        ("dataset", info.dataset or "-"),
        ("parameters", f"{info.params:,}" if info.params is not None else "-"),
        ("input", f"{info.input_name} float32 [N, {height}, {width}, 3] RGB 0..255"),
        ("output", f"{info.output_name} float32 [N, {info.num_classes}] probabilities"),
        ("format version", info.format_version),
    ]
    lines = ["Model", *_rows(model_rows), "", f"Labels ({info.num_classes})"]
    lines += [f"  {i:>2}  {label}" for i, label in enumerate(info.labels)]
    lines += ["", "Metrics"]
    summary = [
        ("test accuracy", _percent(m.get("test_accuracy"))),
        ("test loss", f"{m['test_loss']:.4f}" if isinstance(m.get("test_loss"), (int, float)) else "-"),
        ("test images", str(m.get("num_test_images", "-"))),
        ("validation accuracy", _percent(m.get("val_accuracy"))),
        ("macro F1", f"{m['macro_f1']:.4f}" if isinstance(m.get("macro_f1"), (int, float)) else "-"),
    ]
    lines += _rows(summary)
    if isinstance(m.get("per_class"), Mapping) and m["per_class"]:
        lines += ["", "Per class", *_per_class_table(m["per_class"])]
    if info.training:
        lines += ["", "Training", *_rows(_flatten("", info.training))]
    return "\n".join(lines)


def file_size(path: str | Path) -> int | None:
    try:
        return Path(path).stat().st_size
    except OSError:
        return None
