"""Find and load what is exported: a run folder, a ``.weights.h5`` or a ``.keras`` file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from export.backend import require_tensorflow_backend

require_tensorflow_backend()

import keras  # noqa: E402

from export.convert import ExportError  # noqa: E402

WEIGHTS_NAME = "model.weights.h5"
REPORT_NAME = "report.json"


@dataclass
class Source:
    """A loaded Keras model with the report that describes it (if any)."""

    model: keras.Model
    model_name: str | None
    report: dict[str, Any] | None


def _load_report(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    from training.reports import load_report

    return load_report(path)


def _register_custom_layers() -> None:
    """Import every registered model's module so its custom layers are known to ``load_model``."""
    from training.models import import_model_modules

    import_model_modules()


def _is_tiny(report: dict[str, Any] | None) -> bool:
    """Whether a report describes a ``tiny=True`` (test-size) model."""
    if not report:
        return False
    training = report.get("training") or {}
    recipe = training.get("recipe") if isinstance(training.get("recipe"), dict) else {}
    return bool(report.get("tiny") or training.get("tiny") or recipe.get("tiny"))


def load_source(
    source: str | Path,
    *,
    model_name: str | None = None,
    report: str | Path | None = None,
    tiny: bool | None = None,
) -> Source:
    """Load the Keras model to export and its training report.

    ``source`` is a run folder (``model.weights.h5`` + ``report.json``), a
    ``.weights.h5`` file (the architecture comes from ``model_name`` or the
    report's ``model``) or a full ``.keras`` file. The architecture is rebuilt
    with ``training.models.build_model`` on the TensorFlow backend and the
    weights loaded with ``load_weights`` (backend-neutral). ``tiny`` builds
    the test-size variant (default: what the report says).
    """
    path = Path(source)
    if not path.exists():
        raise ExportError(f"{path}: no such file or folder")
    report_path = Path(report) if report is not None else None
    if path.is_dir():
        weights = path / WEIGHTS_NAME
        if not weights.is_file():
            raise ExportError(f"{path}: a run folder must contain {WEIGHTS_NAME}")
        if report_path is None and (path / REPORT_NAME).is_file():
            report_path = path / REPORT_NAME
        path = weights
    loaded_report = _load_report(report_path)
    if model_name is None and loaded_report is not None:
        model_name = loaded_report.get("model")

    if path.name.endswith(".weights.h5"):
        if model_name is None:
            raise ExportError(f"{path}: a weights file needs the architecture: pass --model NAME or a --report")
        from training.models import build_model

        labels = (loaded_report or {}).get("labels")
        tiny = _is_tiny(loaded_report) if tiny is None else tiny
        model = build_model(model_name, num_classes=len(labels) if labels else 10, tiny=tiny)
        try:
            model.load_weights(str(path))
        except (ValueError, KeyError) as exc:
            reason = str(exc).strip().splitlines()[0][:300]
            size = "tiny " if tiny else ""
            raise ExportError(
                f"{path}: the weights do not fit the {size}'{model_name}' architecture ({reason})"
            ) from exc
        return Source(model, model_name, loaded_report)
    if path.suffix == ".keras":
        _register_custom_layers()
        model = keras.saving.load_model(str(path), compile=False)
        return Source(model, model_name, loaded_report)
    raise ExportError(f"{path}: expected a run folder, a .weights.h5 file or a .keras file")
