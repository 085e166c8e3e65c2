"""The taught head: multinomial logistic regression with L2, in NumPy.

Small on purpose (features are 1,280 values, classes a handful): full-batch
Nesterov gradient descent with restarts on standardised features converges
in a few hundred steps and needs no SciPy or scikit-learn at run time.
Every photo may come with extra rows (its horizontally flipped copy) that
share its ``group``: cross-validation keeps a photo and its copies on the
same side of every split, so held-out numbers are honest.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import numpy as np

#: L2 strengths tried by cross-validation (on centred features of unit mean norm, per row).
L2_GRID = (1e-3, 1e-2, 1e-1, 1.0)
MAX_FOLDS = 5
#: From this many photos, 3 folds (each fold's training set is big enough; the head's fits dominate the time).
FEWER_FOLDS_FROM = 500
#: Up to this many photos, every photo is held out on its own (leave-one-out).
LEAVE_ONE_OUT_UP_TO = 40
MAX_STEPS = 300


class Cancelled(Exception):
    """Teaching was cancelled by the caller."""


@dataclass
class Head:
    """A fitted linear head on raw features: ``logits = features @ weights + bias``."""

    weights: np.ndarray  # (D, K) float32
    bias: np.ndarray  # (K,)
    l2: float

    def logits(self, features: np.ndarray) -> np.ndarray:
        return cast(np.ndarray, features @ self.weights + self.bias)

    def scaled(self, temperature: float) -> Head:
        """The same head with its logits divided by ``temperature`` (calibration folded in)."""
        return Head(self.weights / temperature, self.bias / temperature, self.l2)


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return cast(np.ndarray, e / e.sum(axis=1, keepdims=True))


def _standardise(x: np.ndarray, *, overwrite: bool = False) -> tuple[np.ndarray, np.ndarray, float]:
    """Centre each feature, scale all by one number (per-feature scaling amplifies noise with few photos).

    ``overwrite``: ``x`` is the caller's throwaway float32 copy, standardised in place (2,000 photos'
    rows are 20 MB: memory stays near the features themselves).
    """
    z = x if overwrite and x.dtype == np.float32 else np.array(x, dtype=np.float32)
    mean = z.mean(axis=0)
    z -= mean
    scale = float(np.sqrt(np.einsum("ij,ij->i", z, z).mean())) + 1e-6
    z /= scale
    return z, mean, scale


def fit_head(
    x: np.ndarray, y: np.ndarray, classes: int, l2: float, *, steps: int = MAX_STEPS, overwrite: bool = False
) -> Head:
    """Minimise mean cross-entropy + ``l2/2 * |W|^2`` (standardised features; bias not penalised).

    ``overwrite``: ``x`` may be used as working memory (see :func:`fit_path`)."""
    return fit_path(x, y, classes, (l2,), steps=steps, overwrite=overwrite)[0]


def fit_path(
    x: np.ndarray,
    y: np.ndarray,
    classes: int,
    grid: tuple[float, ...],
    *,
    steps: int = MAX_STEPS,
    check: Callable[[], None] | None = None,
    overwrite: bool = False,
) -> list[Head]:
    """One head per L2 strength in ``grid`` (in that order), each fit warm-started from the previous one.

    With fewer rows than features the descent runs in the rows' span
    (``W = Z^T A``: the L2-penalised solution lies there and gradient steps
    from zero never leave it), so each step costs rows x rows, not rows x
    1,280: the same solution, several times cheaper for a few hundred photos.
    ``overwrite``: ``x`` may be used as working memory (a copy the caller drops).
    """
    z, mean, std = _standardise(x, overwrite=overwrite)
    dual = len(z) < z.shape[1]
    kernel = z @ z.T if dual else None
    state = None
    heads = []
    for l2 in grid:
        if check:
            check()
        if dual:
            assert kernel is not None  # made above when dual
            state = _descend(kernel, y, classes, l2, steps, state, dual=True)
            w = z.T @ state[0]
        else:
            state = _descend(z, y, classes, l2, steps, state, dual=False)
            w = state[0]
        weights = (w / std).astype(np.float32)
        bias = (state[1] - (mean / std) @ w).astype(np.float32)
        heads.append(Head(weights, bias, l2))
    return heads


def _descend(
    data: np.ndarray,
    y: np.ndarray,
    classes: int,
    l2: float,
    steps: int,
    init: tuple[np.ndarray, np.ndarray] | None,
    *,
    dual: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Nesterov gradient descent with restarts on the penalised softmax cross-entropy.

    ``dual=False``: ``data`` is Z (rows x features), the parameters are W.
    ``dual=True``: ``data`` is the kernel K = Z Z^T and the parameters are A
    with W = Z^T A; the logits are K A, |W|^2 = sum(A * K A), and a gradient
    step on W is the same step on A with Z^T factored out.
    """
    n = len(y)
    onehot = np.eye(classes, dtype=np.float32)[y]
    # Softmax cross-entropy's Hessian is below 1/2 X^T X / n: that bounds the step size.
    v = np.ones(data.shape[1], np.float32)
    for _ in range(20):
        v = data @ v if dual else data.T @ (data @ v)
        top = np.linalg.norm(v) + 1e-12
        v /= top
    lipschitz = 0.5 * float(top if dual else np.linalg.norm(data @ v) ** 2) / n + 0.5 + l2
    step = 1.0 / lipschitz
    if init is None:
        w = np.zeros((data.shape[1], classes), np.float32)
        b = np.zeros(classes, np.float32)
    else:
        w, b = init
    w_prev, b_prev = w, b
    momentum, last_loss = 1.0, math.inf
    for _ in range(steps):
        next_m = (1 + math.sqrt(1 + 4 * momentum * momentum)) / 2
        beta = (momentum - 1) / next_m
        yw, yb = w + beta * (w - w_prev), b + beta * (b - b_prev)
        scores = data @ yw
        p = softmax(scores + yb)
        norm2 = float((yw * scores).sum()) if dual else float((yw * yw).sum())
        loss = -float(np.log(p[np.arange(n), y] + 1e-12).mean()) + 0.5 * l2 * norm2
        if loss > last_loss:  # restart the momentum (keeps Nesterov monotone enough)
            next_m, yw, yb = 1.0, w, b
            p = softmax(data @ yw + yb)
        last_loss = loss
        grad = (p - onehot) / n
        w_prev, b_prev = w, b
        w = yw - step * ((grad if dual else data.T @ grad) + l2 * yw)
        b = yb - step * grad.sum(axis=0)
        momentum = next_m
        change = data @ (w - w_prev) if dual else w - w_prev  # in the dual: the change of the logits' part
        if float(np.abs(change).max()) < 1e-5:
            break
    return w, b


def stratified_folds(labels: np.ndarray, folds: int, seed: int = 0) -> np.ndarray:
    """Fold number of each photo, every class spread evenly over the folds."""
    rng = np.random.default_rng(seed)
    fold = np.zeros(len(labels), dtype=int)
    offset = 0
    for cls in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == cls))
        fold[members] = (np.arange(len(members)) + offset) % folds
        offset += len(members)  # small classes do not all land in fold 0
    return fold


def fold_count(counts: list[int]) -> int:
    """k for k-fold: one per photo up to :data:`LEAVE_ONE_OUT_UP_TO` photos, 3 from :data:`FEWER_FOLDS_FROM`,
    else 5 (fewer for a tiny class)."""
    if sum(counts) <= LEAVE_ONE_OUT_UP_TO:
        return sum(counts)
    most = 3 if sum(counts) >= FEWER_FOLDS_FROM else MAX_FOLDS
    return max(2, min(most, min(counts)))


@dataclass
class CrossValidation:
    """Held-out logits of every photo (its own rows never seen in training) at the chosen L2."""

    l2: float
    folds: int
    logits: np.ndarray  # (photos, K), from the original (unflipped) rows
    fold_of_photo: np.ndarray
    losses: dict[float, float]


def cross_validate(
    x: np.ndarray,
    y: np.ndarray,
    group: np.ndarray,
    original: np.ndarray,
    classes: int,
    *,
    grid: tuple[float, ...] = L2_GRID,
    check: Callable[[], None] | None = None,
) -> CrossValidation:
    """Choose the L2 strength by k-fold cross-validated log-loss over photos.

    ``group`` maps each row to its photo, ``original`` marks the unflipped
    row of each photo (the one scored). Returns the held-out logits of the
    chosen strength, used for the reported accuracy and the calibration.
    """
    photos = np.flatnonzero(original)
    photo_labels = y[photos]
    k = fold_count(np.bincount(photo_labels, minlength=classes).tolist())
    fold_of_photo = stratified_folds(photo_labels, k)
    fold_of_row = fold_of_photo[np.searchsorted(group[photos], group)]
    order = sorted(grid, reverse=True)  # strong to weak: each fold's fit warm-starts the next
    results = {l2: np.zeros((len(photos), classes), np.float32) for l2 in order}
    for fold in range(k):
        train = fold_of_row != fold
        test = fold_of_photo == fold
        if not test.any():
            continue
        for head in fit_path(x[train], y[train], classes, tuple(order), check=check, overwrite=True):
            results[head.l2][test] = head.logits(x[photos[test]])
    losses: dict[float, float] = {}
    for l2, held in results.items():
        probs = softmax(held)
        losses[l2] = -float(np.log(probs[np.arange(len(photos)), photo_labels] + 1e-12).mean())
    best = min(grid, key=lambda value: losses[value])
    return CrossValidation(best, k, results[best], fold_of_photo, losses)


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature that minimises the held-out log-loss (golden-section search on log T)."""

    def nll(log_t: float) -> float:
        p = softmax(logits / math.exp(log_t))
        return -float(np.log(p[np.arange(len(labels)), labels] + 1e-12).mean())

    lo, hi = math.log(0.05), math.log(20.0)
    ratio = (math.sqrt(5) - 1) / 2
    for _ in range(60):
        a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
        if nll(a) < nll(b):
            hi = b
        else:
            lo = a
    return math.exp((lo + hi) / 2)
