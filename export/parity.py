"""Parity: the ONNX file must compute what the Keras model computes.

Both run on the same images (real ones when given, generated otherwise);
the export passes when the largest absolute probability difference is at
most ``atol`` and every image gets the same top-1 class. A top-1 difference
counts as a tie, not a failure, only when Keras itself scores the two classes
within ``TIE_TOLERANCE`` of each other (float noise decides such ties).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

DEFAULT_ATOL = 1e-4
MIN_IMAGES = 256
TIE_TOLERANCE = 1e-6

Predict = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class ParityResult:
    """How closely two predictors agree on a set of images."""

    num_images: int
    max_abs_diff: float
    mean_abs_diff: float
    top1_mismatches: int
    ties: int
    atol: float

    @property
    def ok(self) -> bool:
        return self.max_abs_diff <= self.atol and self.top1_mismatches == 0

    @property
    def top1_agreement(self) -> float:
        return 1.0 - self.top1_mismatches / self.num_images if self.num_images else 1.0

    def __str__(self) -> str:
        verdict = "passed" if self.ok else "FAILED"
        ties = f" ({self.ties} numerical ties)" if self.ties else ""
        return (
            f"parity {verdict} on {self.num_images} images: max |dp| = {self.max_abs_diff:.3g} "
            f"(limit {self.atol:g}), mean |dp| = {self.mean_abs_diff:.3g}, "
            f"top-1 differs on {self.top1_mismatches}{ties}"
        )


def generated_images(n: int = MIN_IMAGES, size: tuple[int, int] = (32, 32), seed: int = 0) -> np.ndarray:
    """``n`` float32 NHWC images 0..255: half uniform noise, half smooth colour gradients."""
    rng = np.random.default_rng(seed)
    h, w = size
    noise = rng.uniform(0.0, 255.0, size=(n - n // 2, h, w, 3))
    yy, xx = np.meshgrid(np.linspace(0.0, 1.0, h), np.linspace(0.0, 1.0, w), indexing="ij")
    base = np.stack([yy, xx, (yy + xx) / 2], axis=-1)  # (h, w, 3)
    k = n // 2
    gain = rng.uniform(-1.0, 1.0, size=(k, 1, 1, 3))
    offset = rng.uniform(0.0, 1.0, size=(k, 1, 1, 3))
    phase = rng.uniform(0.0, 2 * np.pi, size=(k, 1, 1, 3))
    gradients = offset + gain * base[None] + 0.25 * np.sin(2 * np.pi * base[None] + phase)
    gradients = np.clip(gradients, 0.0, 1.0) * 255.0
    return np.concatenate([noise, gradients]).astype(np.float32)


def compare_probabilities(expected: np.ndarray, actual: np.ndarray, *, atol: float = DEFAULT_ATOL) -> ParityResult:
    """Compare reference probabilities with another predictor's, image by image."""
    expected = np.asarray(expected, dtype=np.float64)
    actual = np.asarray(actual, dtype=np.float64)
    if expected.shape != actual.shape:
        raise ValueError(f"probability shapes differ: {expected.shape} vs {actual.shape}")
    diff = np.abs(expected - actual)
    top_expected = expected.argmax(axis=1)
    top_actual = actual.argmax(axis=1)
    differ = top_expected != top_actual
    rows = np.arange(len(expected))
    margin = expected[rows, top_expected] - expected[rows, top_actual]
    ties = differ & (margin <= TIE_TOLERANCE)
    return ParityResult(
        num_images=len(expected),
        max_abs_diff=float(diff.max()) if diff.size else 0.0,
        mean_abs_diff=float(diff.mean()) if diff.size else 0.0,
        top1_mismatches=int((differ & ~ties).sum()),
        ties=int(ties.sum()),
        atol=atol,
    )


def batched(predict: Predict, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Run ``predict`` over ``images`` in batches and stack the results."""
    parts = [np.asarray(predict(images[i : i + batch_size])) for i in range(0, len(images), batch_size)]
    return np.concatenate(parts) if parts else np.zeros((0, 0), np.float32)


def onnx_predictor(model_bytes_or_path: bytes | str) -> Predict:
    """A CPU onnxruntime predictor for a serialized model or a file path."""
    import onnxruntime as ort

    session = ort.InferenceSession(model_bytes_or_path, providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name
    return lambda batch: session.run(None, {input_name: np.ascontiguousarray(batch, dtype=np.float32)})[0]


def check_parity(
    reference: Predict, candidate: Predict, images: np.ndarray, *, atol: float = DEFAULT_ATOL
) -> ParityResult:
    """Compare two predictors on ``images``."""
    return compare_probabilities(batched(reference, images), batched(candidate, images), atol=atol)
