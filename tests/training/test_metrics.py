"""Metrics on predictions whose answers were worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from training.metrics import classification_metrics, confusion_matrix, cross_entropy, top_k_accuracy

LABELS = ("a", "b", "c")
# Worked example: rows = true, columns = predicted
#   true a -> a, a, b          [[2, 1, 0],
#   true b -> b, b              [0, 2, 0],
#   true c -> c, a, a           [2, 0, 1]]
Y_TRUE = np.array([0, 0, 0, 1, 1, 2, 2, 2])
Y_PRED = np.array([0, 0, 1, 1, 1, 2, 0, 0])


def one_hot_probs(pred: np.ndarray, n: int = 3, top: float = 0.7) -> np.ndarray:
    """Probabilities with ``top`` on the predicted class and the rest shared equally."""
    probs = np.full((len(pred), n), (1 - top) / (n - 1))
    probs[np.arange(len(pred)), pred] = top
    return probs


def test_worked_example_matches_hand_computation() -> None:
    m = classification_metrics(Y_TRUE, one_hot_probs(Y_PRED), LABELS)

    assert m["confusion_matrix"] == [[2, 1, 0], [0, 2, 0], [2, 0, 1]]
    assert m["test_accuracy"] == pytest.approx(5 / 8)
    assert m["num_test_images"] == 8
    expected = {  # precision = diag / column sum, recall = diag / row sum
        "a": (2 / 4, 2 / 3, 4 / 7, 3),
        "b": (2 / 3, 2 / 2, 4 / 5, 2),
        "c": (1 / 1, 1 / 3, 1 / 2, 3),
    }
    for label, (precision, recall, f1, support) in expected.items():
        got = m["per_class"][label]
        assert got["precision"] == pytest.approx(precision)
        assert got["recall"] == pytest.approx(recall)
        assert got["f1"] == pytest.approx(f1)
        assert got["support"] == support
    assert m["macro_f1"] == pytest.approx((4 / 7 + 4 / 5 + 1 / 2) / 3)
    # 5 right answers at p = 0.7, 3 wrong ones where the true class got 0.15
    assert m["test_loss"] == pytest.approx((5 * -math.log(0.7) + 3 * -math.log(0.15)) / 8)


def test_values_are_plain_python_for_json() -> None:
    m = classification_metrics(Y_TRUE, one_hot_probs(Y_PRED).astype(np.float32), LABELS)
    assert type(m["test_accuracy"]) is float and type(m["num_test_images"]) is int
    assert all(type(v) is int for row in m["confusion_matrix"] for v in row)
    assert all(type(v) in (float, int) for scores in m["per_class"].values() for v in scores.values())


def test_never_predicted_class_has_zero_precision_and_empty_class_zero_recall() -> None:
    m = classification_metrics(np.array([0, 1, 2]), one_hot_probs(np.array([0, 1, 1])), LABELS)
    assert m["per_class"]["c"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}

    m = classification_metrics(np.array([0, 0]), one_hot_probs(np.array([0, 1]), n=2), ("x", "y"))
    assert m["per_class"]["y"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert m["per_class"]["x"]["recall"] == pytest.approx(0.5)


def test_one_hot_labels_give_the_same_answer() -> None:
    probs = one_hot_probs(Y_PRED)
    assert classification_metrics(np.eye(3)[Y_TRUE], probs, LABELS) == classification_metrics(Y_TRUE, probs, LABELS)


def test_loss_clips_zero_probability_of_the_true_class() -> None:
    probs = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert cross_entropy(np.array([1, 1]), probs) == pytest.approx(-math.log(1e-7) / 2)


def test_confusion_matrix_counts_every_pair() -> None:
    matrix = confusion_matrix(np.array([0, 1, 1, 2]), np.array([2, 1, 1, 0]), 3)
    assert matrix.tolist() == [[0, 0, 1], [0, 2, 0], [1, 0, 0]]


def test_top_k_accuracy() -> None:
    probs = np.array([[0.5, 0.3, 0.2], [0.1, 0.2, 0.7], [0.6, 0.3, 0.1]])
    y = np.array([1, 2, 2])
    assert top_k_accuracy(y, probs, k=1) == pytest.approx(1 / 3)
    assert top_k_accuracy(y, probs, k=2) == pytest.approx(2 / 3)
    assert top_k_accuracy(y, probs, k=3) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("y", "probs", "message"),
    [
        (np.array([0, 1]), np.full((2, 2), 0.5), "2 columns but there are 3 labels"),
        (np.array([0, 1, 2]), np.full((2, 3), 1 / 3), "3 labels but 2 rows"),
        (np.array([0, 3]), np.full((2, 3), 1 / 3), "0..2"),
        (np.array([0]), np.array([[np.nan, 0.5, 0.5]]), "NaN"),
        (np.array([], dtype=int), np.zeros((0, 3)), "0 rows"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(y: np.ndarray, probs: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        classification_metrics(y, probs, LABELS)
