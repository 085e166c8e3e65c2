"""What ``train`` and ``evaluate`` do end to end: data -> fit -> evaluate -> report files.

A run folder holds ``model.weights.h5``, ``report.json`` (the export reads
it into the ONNX metadata), ``history.png``, ``confusion.png`` and, when
calibrated, ``reliability.png``.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any

import keras

from training.calibration import plot_reliability
from training.data import Dataset, load_dataset
from training.evaluate import Evaluation, evaluate_model, load_trained
from training.models import get_spec
from training.recipes import Recipe
from training.reports import load_report, plot_confusion, plot_history, write_report
from training.runtime import hardware_description
from training.train import WEIGHTS_NAME, fit_model

HISTORY_PNG, CONFUSION_PNG, RELIABILITY_PNG = "history.png", "confusion.png", "reliability.png"


def _write_evaluation(out: Path, report: dict[str, Any], evaluation: Evaluation, dataset: Dataset) -> Path:
    """Put the evaluation into ``report``, write it and the PNGs; return report.json's path."""
    report["metrics"] = evaluation.metrics
    title = report.get("display_name", report["model"])
    if evaluation.calibration is not None:
        report["calibration"] = evaluation.calibration
        plot_reliability(
            evaluation.test_probs,
            dataset.y_test,
            out / RELIABILITY_PNG,
            temperature=evaluation.calibration["temperature"],
            title=f"{title}: test split",
        )
    else:
        report.pop("calibration", None)
    plot_confusion(evaluation.metrics["confusion_matrix"], dataset.labels, out / CONFUSION_PNG, title=title)
    if report.get("history", {}).get("accuracy"):
        plot_history(report["history"], out / HISTORY_PNG, title=title)
    return write_report(out, report)


def run_training(
    name: str,
    recipe: Recipe,
    *,
    data: str | Path | None,
    out: str | Path,
    limit: int | None = None,
    seed: int = 0,
    tiny: bool = False,
    backbone_weights: str | Path | None = None,
    calibrate: bool = True,
    time_budget_s: float | None = None,
) -> dict[str, Any]:
    """Train, evaluate on the test split, calibrate on validation, write the run folder.

    ``time_budget_s`` bounds the fit (not the data loading or evaluation);
    see :func:`training.train.fit_model`.
    """
    spec = get_spec(name)
    out = Path(out)
    dataset = load_dataset(data, limit=limit, seed=seed)
    print(
        f"{dataset.name}: {len(dataset.y_train)} train / {len(dataset.y_val)} validation / "
        f"{len(dataset.y_test)} test images"
        + (f"; skipped {len(dataset.skipped)} unreadable" if dataset.skipped else "")
    )
    fit = fit_model(
        name,
        dataset,
        recipe,
        out,
        seed=seed,
        tiny=tiny,
        backbone_weights=backbone_weights,
        time_budget_s=time_budget_s,
    )
    model = fit.model
    if fit.policy != "float32":  # evaluate what the export will run: float32
        model = load_trained(name, fit.weights_path, num_classes=len(dataset.labels), tiny=tiny)
    evaluation = evaluate_model(model, dataset, calibrate=calibrate)
    report = {
        "model": name,
        "display_name": spec.display_name,
        "description": spec.description,
        "architecture": spec.architecture,
        "dataset": dataset.name,
        "params": int(model.count_params()),
        "labels": list(dataset.labels),
        "training": {
            "recipe": recipe.to_dict(),
            "epochs": fit.epochs,
            "best_epoch": fit.best_epoch,
            "duration_s": round(fit.duration_s, 1),
            "time_budget_s": time_budget_s,
            "stopped_by_budget": fit.stopped_by_budget,
            "epoch_seconds": fit.epoch_seconds,
            "hardware": hardware_description(),
            "backend": keras.backend.backend(),
            "precision": fit.policy,
            "seed": seed,
            "train_images": int(len(dataset.y_train)),
            "val_images": int(len(dataset.y_val)),
            "limit": limit,
            "tiny": tiny,
            "data_source": str(data) if data is not None else "keras.datasets.cifar10",
            "backbone_weights": None if backbone_weights is None else str(backbone_weights),
            "skipped_files": dataset.summary()["skipped_files"],
            "finished": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        },
        "history": fit.history,
    }
    path = _write_evaluation(out, report, evaluation, dataset)
    print(f"wrote {path}")
    return report


def run_evaluation(
    target: str | Path,
    name: str,
    *,
    data: str | Path | None,
    limit: int | None = None,
    seed: int | None = None,
    tiny: bool | None = None,
    calibrate: bool = True,
) -> dict[str, Any]:
    """Re-evaluate a run folder (or a weights file) and (re)write its report.json.

    Seed, limit and width default to those recorded in an existing report, so
    the validation split used for calibration is the one of the training run.
    """
    spec = get_spec(name)
    target = Path(target)
    weights = target / WEIGHTS_NAME if target.is_dir() else target
    if not weights.is_file():
        raise FileNotFoundError(f"no trained weights at {weights}")
    out = weights.parent
    report = load_report(out) if (out / "report.json").exists() else {}
    recorded = report.get("training", {})
    seed = recorded.get("seed", 0) if seed is None else seed
    limit = recorded.get("limit") if limit is None else limit
    tiny = bool(recorded.get("tiny", False)) if tiny is None else tiny
    dataset = load_dataset(data, limit=limit, seed=seed)
    model = load_trained(name, weights, num_classes=len(dataset.labels), tiny=tiny)
    evaluation = evaluate_model(model, dataset, calibrate=calibrate)
    report.update(
        model=name,
        display_name=spec.display_name,
        description=spec.description,
        architecture=spec.architecture,
        dataset=dataset.name,
        params=int(model.count_params()),
        labels=list(dataset.labels),
    )
    report.setdefault("training", {}).update(seed=seed, limit=limit, tiny=tiny)
    path = _write_evaluation(out, report, evaluation, dataset)
    print(f"wrote {path}")
    return report
