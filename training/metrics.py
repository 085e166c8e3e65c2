"""Classification metrics from predicted probabilities (pure NumPy).

The numbers here go into ``report.json`` and from there into the ONNX
metadata, so every value is a plain Python ``int``/``float`` (JSON-safe).

Conventions (also in ``docs/results-format.md``):

* ``precision`` of a class that is never predicted is 0 (not NaN), ``recall``
  of a class with no test images is 0, and ``f1`` is 0 whenever precision +
  recall is 0. ``macro_f1`` is the unweighted mean of the per-class F1.
* ``test_loss`` is the mean categorical cross-entropy with probabilities
  clipped to ``[1e-7, 1]``, the same epsilon Keras uses.
* ``confusion_matrix[i][j]`` counts images of true class ``i`` predicted as
  class ``j`` (rows = true, columns = predicted).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

#: Probability clip for the cross-entropy (Keras' ``backend.epsilon()``).
EPSILON = 1e-7


def as_class_indices(y_true: np.ndarray, num_classes: int) -> np.ndarray:
    """Return integer class indices from integer labels or one-hot rows.

    Raises ``ValueError`` for a shape or a value that does not fit ``num_classes``.
    """
    y = np.asarray(y_true)
    if y.ndim == 2 and y.shape[1] == num_classes and num_classes > 1:
        y = np.argmax(y, axis=1)
    elif y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"labels must be class indices [N] or one-hot [N, {num_classes}], got shape {y.shape}")
    if y.size and not np.issubdtype(y.dtype, np.integer):
        if not np.all(np.equal(np.mod(y, 1), 0)):
            raise ValueError("labels must be whole class indices")
        y = y.astype(np.int64)
    y = y.astype(np.int64, copy=False)
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"labels must lie in 0..{num_classes - 1}, found {int(y.min())}..{int(y.max())}")
    return y


def check_probabilities(probs: np.ndarray, num_classes: int | None = None) -> np.ndarray:
    """Return ``probs`` as a float64 ``[N, C]`` array, or raise ``ValueError``."""
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2:
        raise ValueError(f"probabilities must have shape [N, C], got {p.shape}")
    if num_classes is not None and p.shape[1] != num_classes:
        raise ValueError(f"probabilities have {p.shape[1]} columns but there are {num_classes} labels")
    if p.shape[0] == 0:
        raise ValueError("no predictions to evaluate (0 rows)")
    if not np.all(np.isfinite(p)):
        raise ValueError("probabilities contain NaN or infinity")
    return p


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts ``[true, predicted]`` as an ``int64`` ``[C, C]`` array."""
    index = np.asarray(y_true, dtype=np.int64) * num_classes + np.asarray(y_pred, dtype=np.int64)
    return np.bincount(index, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def cross_entropy(y_true: np.ndarray, probs: np.ndarray) -> float:
    """Mean categorical cross-entropy of the true class, probabilities clipped."""
    p = check_probabilities(probs)
    y = as_class_indices(y_true, p.shape[1])
    picked = np.clip(p[np.arange(len(y)), y], EPSILON, 1.0)
    return float(-np.mean(np.log(picked)))


def per_class_scores(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Precision, recall, F1 and support per class from a confusion matrix (0 where undefined)."""
    m = np.asarray(matrix, dtype=np.float64)
    true_pos = np.diag(m)
    predicted = m.sum(axis=0)
    support = m.sum(axis=1)
    precision = np.divide(true_pos, predicted, out=np.zeros_like(true_pos), where=predicted > 0)
    recall = np.divide(true_pos, support, out=np.zeros_like(true_pos), where=support > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(true_pos), where=denom > 0)
    return precision, recall, f1, support.astype(np.int64)


def top_k_accuracy(y_true: np.ndarray, probs: np.ndarray, k: int = 5) -> float:
    """Fraction of rows whose true class is among the ``k`` most probable ones."""
    p = check_probabilities(probs)
    y = as_class_indices(y_true, p.shape[1])
    k = max(1, min(int(k), p.shape[1]))
    top = np.argpartition(-p, k - 1, axis=1)[:, :k]
    return float(np.mean(np.any(top == y[:, None], axis=1)))


def classification_metrics(y_true: np.ndarray, probs: np.ndarray, labels: Sequence[str]) -> dict[str, Any]:
    """Test accuracy, loss, per-class precision/recall/F1, confusion matrix and macro F1.

    ``y_true`` holds class indices (or one-hot rows) in the order of ``labels``;
    ``probs`` is the model's ``[N, C]`` softmax output.
    """
    labels = [str(label) for label in labels]
    p = check_probabilities(probs, len(labels))
    y = as_class_indices(y_true, len(labels))
    if len(y) != len(p):
        raise ValueError(f"{len(y)} labels but {len(p)} rows of probabilities")
    matrix = confusion_matrix(y, np.argmax(p, axis=1), len(labels))
    precision, recall, f1, support = per_class_scores(matrix)
    return {
        "test_accuracy": float(np.trace(matrix) / len(y)),
        "test_loss": cross_entropy(y, p),
        "num_test_images": int(len(y)),
        "per_class": {
            label: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, label in enumerate(labels)
        },
        "confusion_matrix": matrix.astype(int).tolist(),
        "macro_f1": float(np.mean(f1)),
    }
