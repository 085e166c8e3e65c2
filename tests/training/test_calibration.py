"""ECE on constructed cases and temperature scaling on synthetic logits with a known T."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from training.calibration import (
    apply_temperature,
    calibration_summary,
    expected_calibration_error,
    fit_temperature,
    negative_log_likelihood,
    plot_reliability,
    reliability_bins,
)


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def sample_labels(probs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One label per row drawn from that row's distribution."""
    u = rng.random(len(probs))[:, None]
    return np.minimum((u > np.cumsum(probs, axis=1)).sum(axis=1), probs.shape[1] - 1)


def group(confidence: float, n: int, n_correct: int, classes: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """``n`` rows predicting class 0 with ``confidence``; the first ``n_correct`` are right."""
    probs = np.full((n, classes), (1 - confidence) / (classes - 1))
    probs[:, 0] = confidence
    y = np.where(np.arange(n) < n_correct, 0, 1)
    return probs, y


def test_exactly_calibrated_groups_have_zero_ece() -> None:
    (p1, y1), (p2, y2) = group(0.8, 100, 80), group(0.6, 50, 30)
    assert expected_calibration_error(np.vstack([p1, p2]), np.concatenate([y1, y2])) == pytest.approx(0, abs=1e-12)


def test_always_confident_and_wrong() -> None:
    probs, y = group(0.9, 40, 0)
    assert expected_calibration_error(probs, y) == pytest.approx(0.9)
    probs, y = group(1.0, 40, 0)
    assert expected_calibration_error(probs, y) == pytest.approx(1.0)


def test_ece_weights_bins_by_count_and_depends_on_binning() -> None:
    (p1, y1), (p2, y2) = group(0.9, 100, 100), group(0.6, 100, 30)
    probs, y = np.vstack([p1, p2]), np.concatenate([y1, y2])
    # 15 bins: gaps 0.1 and 0.3, each half the data
    assert expected_calibration_error(probs, y) == pytest.approx(0.2)
    # one bin: |accuracy 0.65 - mean confidence 0.75|
    assert expected_calibration_error(probs, y, n_bins=1) == pytest.approx(0.1)


def test_bins_are_right_closed() -> None:
    probs, y = group(2 / 3, 3, 3, classes=2)  # 2/3 lies on the edge between bins 9 and 10 of 15
    bins = reliability_bins(probs, y, n_bins=15)
    assert bins["count"][9] == 3 and bins["count"].sum() == 3


def test_labels_drawn_from_the_predictions_are_nearly_calibrated() -> None:
    rng = np.random.default_rng(1)
    probs = softmax(rng.normal(scale=2.0, size=(20000, 10)))
    y = sample_labels(probs, rng)
    assert expected_calibration_error(probs, y) < 0.015
    assert fit_temperature(probs, y) == pytest.approx(1.0, abs=0.05)


def test_fit_temperature_recovers_a_known_temperature_and_lowers_ece() -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(scale=3.0, size=(20000, 10))
    y = sample_labels(softmax(logits / 2.0), rng)  # the truth is softmax(z / 2) ...
    overconfident = softmax(logits).astype(np.float32)  # ... the model says softmax(z)

    temperature = fit_temperature(overconfident[:10000], y[:10000])
    assert temperature == pytest.approx(2.0, rel=0.06)

    summary = calibration_summary(overconfident[:10000], y[:10000], overconfident[10000:], y[10000:])
    assert summary["temperature"] == pytest.approx(temperature)
    assert summary["bins"] == 15
    assert summary["ece_before"] > 0.1
    assert summary["ece_after"] < 0.03
    assert summary["nll_after"] < summary["nll_before"]


def test_fit_temperature_shrinks_an_underconfident_model() -> None:
    rng = np.random.default_rng(2)
    logits = rng.normal(scale=3.0, size=(8000, 5))
    y = sample_labels(softmax(logits), rng)
    assert fit_temperature(softmax(logits / 2.5), y) == pytest.approx(1 / 2.5, rel=0.08)


def test_apply_temperature_keeps_ranking_and_rows() -> None:
    probs = np.array([[0.7, 0.2, 0.1], [0.0, 0.4, 0.6]], dtype=np.float32)
    assert np.allclose(apply_temperature(probs, 1.0), probs, atol=1e-6)
    hot = apply_temperature(probs, 3.0)
    assert hot.dtype == np.float32
    assert np.allclose(hot.sum(axis=1), 1.0, atol=1e-6)
    assert (hot.argmax(axis=1) == probs.argmax(axis=1)).all()
    assert hot[0, 0] < probs[0, 0]  # softer
    assert np.allclose(apply_temperature(probs[:1], 1e6), 1 / 3, atol=1e-5)
    assert negative_log_likelihood(probs, np.array([0, 2]), 1.0) == pytest.approx(-(np.log(0.7) + np.log(0.6)) / 2)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_apply_temperature_refuses_a_bad_temperature(bad: float) -> None:
    with pytest.raises(ValueError, match="temperature"):
        apply_temperature(np.array([[0.5, 0.5]]), bad)


def png_size(path: Path) -> tuple[int, int]:
    assert path.stat().st_size > 1000
    with Image.open(path) as image:
        image.load()
        assert image.format == "PNG"
        return image.size


def test_reliability_diagram_before_and_after(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    probs = softmax(rng.normal(scale=3.0, size=(500, 10)))
    y = rng.integers(0, 10, size=500)
    single = plot_reliability(probs, y, tmp_path / "one.png")
    both = plot_reliability(probs, y, tmp_path / "sub" / "both.png", temperature=2.0, title="deep_cnn")
    assert png_size(both)[0] > png_size(single)[0]  # two panels side by side
    assert not list(tmp_path.rglob("*.tmp"))
