"""Temperature scaling and expected calibration error (pure NumPy).

A softmax classifier is *calibrated* when, among the images it labels with
confidence ~0.8, about 80% are right. Temperature scaling (Guo et al., 2017)
divides the logits by one scalar ``T`` fitted on the validation split; the
export bakes it into the graph as ``softmax(logits / T)``. Because
``softmax(log p / T) == softmax(z / T)`` for the logits ``z`` of ``p``, all of
this works from the probabilities the model already outputs. Dividing by
``T > 0`` never changes the arg-max, so accuracy is unchanged.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from training.metrics import as_class_indices, check_probabilities

DEFAULT_BINS = 15
#: Search range of the temperature (a model needing more than this is broken).
T_BOUNDS = (0.05, 20.0)
_TINY = np.finfo(np.float64).tiny


def _checked(probs: np.ndarray, y_true: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p = check_probabilities(probs)
    y = as_class_indices(y_true, p.shape[1])
    if len(y) != len(p):
        raise ValueError(f"{len(y)} labels but {len(p)} rows of probabilities")
    return p, y


def reliability_bins(probs: np.ndarray, y_true: np.ndarray, n_bins: int = DEFAULT_BINS) -> dict[str, np.ndarray]:
    """Per-bin count, mean confidence and accuracy of the top-1 prediction.

    Bins split (0, 1] into ``n_bins`` equal widths; bin ``b`` holds the
    confidences in ``(b / n, (b + 1) / n]``. Empty bins have NaN mean values.
    """
    p, y = _checked(probs, y_true)
    if n_bins < 1:
        raise ValueError("n_bins must be at least 1")
    confidence = p.max(axis=1)
    correct = (p.argmax(axis=1) == y).astype(np.float64)
    index = np.clip(np.ceil(confidence * n_bins).astype(np.int64) - 1, 0, n_bins - 1)
    counts = np.bincount(index, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(index, weights=confidence, minlength=n_bins) / counts
        accuracy = np.bincount(index, weights=correct, minlength=n_bins) / counts
    return {
        "edges": np.linspace(0.0, 1.0, n_bins + 1),
        "count": counts,
        "confidence": mean_conf,
        "accuracy": accuracy,
    }


def expected_calibration_error(probs: np.ndarray, y_true: np.ndarray, n_bins: int = DEFAULT_BINS) -> float:
    """ECE: the count-weighted mean of |accuracy - confidence| over equal-width bins."""
    bins = reliability_bins(probs, y_true, n_bins)
    filled = bins["count"] > 0
    gaps = np.abs(bins["accuracy"][filled] - bins["confidence"][filled])
    return float(np.sum(gaps * bins["count"][filled]) / np.sum(bins["count"]))


def _log_probs(probs: np.ndarray) -> np.ndarray:
    return np.log(np.maximum(np.asarray(probs, dtype=np.float64), _TINY))


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


def apply_temperature(probs: np.ndarray, temperature: float) -> np.ndarray:
    """Return ``softmax(log(probs) / T)``: the probabilities of the model with logits divided by ``T``."""
    if not (temperature > 0 and math.isfinite(temperature)):
        raise ValueError(f"temperature must be a positive finite number, got {temperature}")
    p = check_probabilities(probs)
    out = _softmax(_log_probs(p) / float(temperature))
    dtype = np.asarray(probs).dtype
    return out.astype(dtype) if np.issubdtype(dtype, np.floating) else out


def _nll_of_log_probs(log_p: np.ndarray, y: np.ndarray, temperature: float) -> float:
    z = log_p / temperature
    z_max = z.max(axis=1)
    log_norm = z_max + np.log(np.exp(z - z_max[:, None]).sum(axis=1))
    return float(np.mean(log_norm - z[np.arange(len(y)), y]))


def negative_log_likelihood(probs: np.ndarray, y_true: np.ndarray, temperature: float = 1.0) -> float:
    """Mean NLL of the true class after temperature scaling (no clipping: exact)."""
    p, y = _checked(probs, y_true)
    return _nll_of_log_probs(_log_probs(p), y, float(temperature))


def fit_temperature(probs: np.ndarray, y_true: np.ndarray, tol: float = 1e-4) -> float:
    """Fit ``T`` minimising the validation NLL of ``softmax(log(probs) / T)``.

    The NLL is convex in ``1 / T``, hence unimodal in ``log T``, so a
    golden-section search on ``log T`` over :data:`T_BOUNDS` finds the optimum.
    Use validation predictions, never the test split.
    """
    p, y = _checked(probs, y_true)
    log_p = _log_probs(p)

    def loss(log_t: float) -> float:
        return _nll_of_log_probs(log_p, y, math.exp(log_t))

    inv_phi = (math.sqrt(5.0) - 1.0) / 2.0
    lo, hi = math.log(T_BOUNDS[0]), math.log(T_BOUNDS[1])
    a, b = hi - inv_phi * (hi - lo), lo + inv_phi * (hi - lo)
    fa, fb = loss(a), loss(b)
    while hi - lo > tol:
        if fa <= fb:  # the minimum lies in [lo, b]
            hi, b, fb = b, a, fa
            a = hi - inv_phi * (hi - lo)
            fa = loss(a)
        else:  # the minimum lies in [a, hi]
            lo, a, fa = a, b, fb
            b = lo + inv_phi * (hi - lo)
            fb = loss(b)
    return float(math.exp((lo + hi) / 2.0))


def calibration_summary(
    val_probs: np.ndarray,
    val_y: np.ndarray,
    test_probs: np.ndarray,
    test_y: np.ndarray,
    n_bins: int = DEFAULT_BINS,
) -> dict[str, Any]:
    """Fit ``T`` on validation data; report ECE and NLL on the test split before and after."""
    temperature = fit_temperature(val_probs, val_y)
    calibrated = apply_temperature(test_probs, temperature)
    return {
        "temperature": temperature,
        "ece_before": expected_calibration_error(test_probs, test_y, n_bins),
        "ece_after": expected_calibration_error(calibrated, test_y, n_bins),
        "nll_before": negative_log_likelihood(test_probs, test_y),
        "nll_after": negative_log_likelihood(calibrated, test_y),
        "bins": int(n_bins),
        "fitted_on": "validation",
        "measured_on": "test",
    }


def _draw_reliability(ax: Any, probs: np.ndarray, y: np.ndarray, n_bins: int, title: str) -> None:
    bins = reliability_bins(probs, y, n_bins)
    edges, filled = bins["edges"], bins["count"] > 0
    width = edges[1] - edges[0]
    accuracy = np.where(filled, bins["accuracy"], 0.0)
    ax.bar(edges[:-1], accuracy, width=width, align="edge", color="#4C72B0", edgecolor="white", label="accuracy")
    gap_low = np.where(filled, np.minimum(accuracy, bins["confidence"]), 0.0)
    gap = np.where(filled, np.abs(bins["confidence"] - accuracy), 0.0)
    ax.bar(edges[:-1], gap, bottom=gap_low, width=width, align="edge", color="#DD8452", alpha=0.5, label="gap")
    ax.plot([0, 1], [0, 1], linestyle="--", color="gray", linewidth=1, label="perfect")
    ece = expected_calibration_error(probs, y, n_bins)
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="confidence (top-1 probability)", ylabel="accuracy")
    ax.set_title(f"{title}  (ECE {100 * ece:.2f}%)")
    ax.legend(loc="upper left", fontsize=8)


def plot_reliability(
    probs: np.ndarray,
    y_true: np.ndarray,
    path: str | Path,
    *,
    temperature: float | None = None,
    n_bins: int = DEFAULT_BINS,
    title: str = "",
) -> Path:
    """Write a reliability diagram PNG; with ``temperature``, before and after side by side."""
    from training.reports import new_figure, save_figure

    p, y = _checked(probs, y_true)
    panels = [("before" if temperature is not None else "reliability", p)]
    if temperature is not None:
        panels.append((f"after (T = {temperature:.3f})", apply_temperature(p, temperature)))
    fig = new_figure(figsize=(5 * len(panels), 4.6))
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (name, panel_probs) in zip(axes, panels):
        _draw_reliability(ax, panel_probs, y, n_bins, name)
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)
