"""Evaluate a trained model: test metrics, validation metrics, temperature calibration.

The temperature is fitted on the validation split and the calibration
error measured on the test split; the test split decides nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np

from training.calibration import calibration_summary
from training.data import Dataset
from training.metrics import classification_metrics, cross_entropy
from training.models import build_model


@dataclass
class Evaluation:
    metrics: dict[str, Any]
    calibration: dict[str, Any] | None
    test_probs: np.ndarray
    val_probs: np.ndarray | None


def predict(model: keras.Model, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Class probabilities ``(N, C)`` float32 for uint8 or float images 0..255."""
    chunks = [
        np.asarray(model.predict_on_batch(x[i : i + batch_size].astype(np.float32)), dtype=np.float32)
        for i in range(0, len(x), batch_size)
    ]
    return np.concatenate(chunks) if chunks else np.zeros((0, model.output_shape[-1]), np.float32)


def evaluate_model(model: keras.Model, dataset: Dataset, *, calibrate: bool = True) -> Evaluation:
    """Test metrics (with validation accuracy and loss) and, optionally, the calibration."""
    test_probs = predict(model, dataset.x_test)
    metrics = classification_metrics(dataset.y_test, test_probs, dataset.labels)
    val_probs = predict(model, dataset.x_val) if len(dataset.y_val) else None
    if val_probs is not None:
        metrics["val_accuracy"] = float(np.mean(np.argmax(val_probs, axis=1) == dataset.y_val))
        metrics["val_loss"] = cross_entropy(dataset.y_val, val_probs)
    calibration = None
    if calibrate and val_probs is not None:
        calibration = calibration_summary(val_probs, dataset.y_val, test_probs, dataset.y_test)
    return Evaluation(metrics, calibration, test_probs, val_probs)


def load_trained(name: str, weights: str | Path, *, num_classes: int = 10, tiny: bool = False) -> keras.Model:
    """``build_model(name)`` in float32 with trained weights (``model.weights.h5``) loaded."""
    model = build_model(name, num_classes=num_classes, tiny=tiny)
    model.load_weights(str(weights))
    return model
