"""Measure ONNX files the way the app runs them: accuracy, size and CPU latency.

Predictions go through ``desktop_app.engine`` (``Classifier.predict_arrays``
on images decoded by the engine's ``load_image``), so an accuracy measured
here is the accuracy a user of the app gets.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from desktop_app.engine.classifier import Classifier
from desktop_app.engine.contract import read_model_info
from desktop_app.engine.sessions import Device


def predict(path: str | Path, images: np.ndarray, *, batch_size: int = 256) -> np.ndarray:
    """``(N, C)`` probabilities of the model at ``path`` on the CPU."""
    classifier = Classifier(read_model_info(path), Device.CPU)
    parts = [classifier.predict_arrays(images[i : i + batch_size]) for i in range(0, len(images), batch_size)]
    return np.concatenate(parts)


def evaluate(path: str | Path, images: np.ndarray, targets: np.ndarray) -> dict[str, Any]:
    """Test metrics (accuracy, loss, per-class, confusion matrix) of an ONNX file."""
    from training.metrics import classification_metrics

    info = read_model_info(path)
    return classification_metrics(targets, predict(path, images), info.labels)


def latency_ms(path: str | Path, *, batch_size: int = 1, runs: int = 30, warmup: int = 3) -> float:
    """Median CPU wall time of one ``session.run`` on a batch of ``batch_size`` images."""
    classifier = Classifier(read_model_info(path), Device.CPU)
    height, width = classifier.input_size
    batch = np.random.default_rng(0).uniform(0, 255, (batch_size, height, width, 3)).astype(np.float32)
    times = []
    for i in range(warmup + runs):
        start = time.perf_counter()
        classifier.predict_arrays(batch)
        if i >= warmup:
            times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


@dataclass(frozen=True)
class VariantReport:
    """A reduced file against its float32 original on the same images."""

    method: str
    size_bytes: int
    base_size_bytes: int
    accuracy: float | None  # None when measured without labelled images
    base_accuracy: float | None
    latency_ms: float
    base_latency_ms: float
    top1_agreement: float
    num_images: int

    @property
    def accuracy_change_points(self) -> float | None:
        if self.accuracy is None or self.base_accuracy is None:
            return None
        return 100.0 * (self.accuracy - self.base_accuracy)

    def keep(self, max_drop_points: float = 0.3) -> bool | None:
        """Issue 4's rule: keep a variant only if it loses at most ``max_drop_points``."""
        change = self.accuracy_change_points
        return None if change is None else change >= -max_drop_points

    def __str__(self) -> str:
        mb = 1024 * 1024
        lines = [
            f"{self.method}: size {self.size_bytes / mb:.2f} MiB (float32 {self.base_size_bytes / mb:.2f} MiB, "
            f"x{self.size_bytes / self.base_size_bytes:.2f})",
            f"  CPU latency {self.latency_ms:.2f} ms per image (float32 {self.base_latency_ms:.2f} ms, "
            f"x{self.latency_ms / self.base_latency_ms:.2f})",
            f"  top-1 agreement with float32 {100 * self.top1_agreement:.2f}% on {self.num_images} images",
        ]
        if self.accuracy is not None and self.base_accuracy is not None:
            verdict = "keep" if self.keep() else "DROP: loses more than 0.3 points"
            lines.append(
                f"  accuracy {100 * self.accuracy:.2f}% (float32 {100 * self.base_accuracy:.2f}%, "
                f"{self.accuracy_change_points:+.2f} points): {verdict}"
            )
        else:
            lines.append("  accuracy not measured (give --data for labelled test images)")
        return "\n".join(lines)


def compare_variant(
    base: str | Path, variant: str | Path, method: str, images: np.ndarray, targets: np.ndarray | None = None
) -> VariantReport:
    """Size, accuracy change and CPU latency change of ``variant`` against ``base``.

    Without ``targets`` only size, latency and top-1 agreement are measured.
    """
    base_probs, variant_probs = predict(base, images), predict(variant, images)

    def accuracy(probs: np.ndarray) -> float | None:
        return None if targets is None else float(np.mean(probs.argmax(1) == targets))

    return VariantReport(
        method=method,
        size_bytes=Path(variant).stat().st_size,
        base_size_bytes=Path(base).stat().st_size,
        accuracy=accuracy(variant_probs),
        base_accuracy=accuracy(base_probs),
        latency_ms=latency_ms(variant),
        base_latency_ms=latency_ms(base),
        top1_agreement=float(np.mean(variant_probs.argmax(1) == base_probs.argmax(1))),
        num_images=len(images),
    )
