"""Small, realistic ``report.json`` contents for the report and comparison tests."""

from __future__ import annotations

from typing import Any

import numpy as np

from training.metrics import classification_metrics

LABELS = ("airplane", "automobile", "bird")


def make_report(model: str = "deep_cnn", accuracy_bias: float = 2.0, seed: int = 0) -> dict[str, Any]:
    """A report as a training run writes it, from seeded random predictions (NumPy types kept on purpose)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, len(LABELS), size=60)
    logits = rng.normal(size=(60, len(LABELS)))
    logits[np.arange(60), y] += accuracy_bias
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    metrics = classification_metrics(y, probs, LABELS)
    metrics.update(val_accuracy=np.float32(0.7), val_loss=np.float64(0.8))
    return {
        "model": model,
        "display_name": model.replace("_", " ").title(),
        "description": f"{model} test report",
        "architecture": "Conv2D x 2 -> Dense(3, softmax)",
        "dataset": "generated",
        "params": np.int64(12345),
        "labels": list(LABELS),
        "metrics": metrics,
        "training": {
            "recipe": {"optimizer": "sgd", "lr": 0.1, "augment": ("crop", "flip")},
            "epochs": 3,
            "duration_s": np.float64(754.2),
            "hardware": "CPU",
            "backend": "tensorflow",
            "seed": 0,
            "train_images": 40,
            "val_images": 10,
        },
        "calibration": {"temperature": np.float64(1.5), "ece_before": 0.08, "ece_after": 0.02, "bins": 15},
        "history": {
            "accuracy": np.array([0.4, 0.6, 0.7]),
            "val_accuracy": [0.35, 0.55, 0.6],
            "loss": [1.1, 0.8, 0.6],
            "val_loss": [1.2, 0.9, 0.85],
        },
    }
