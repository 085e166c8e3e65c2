"""Seeded, stratified index selection: tiny subsets and the validation split."""

from __future__ import annotations

import numpy as np


def _per_class_counts(class_sizes: np.ndarray, total: int) -> np.ndarray:
    """Share ``total`` over classes in proportion to their sizes (largest remainder), >= 1 each."""
    if total >= class_sizes.sum():
        return class_sizes.copy()
    exact = class_sizes * total / class_sizes.sum()
    counts = np.floor(exact).astype(int)
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[: total - counts.sum()]] += 1
    counts = np.maximum(counts, np.minimum(class_sizes, 1))
    return np.minimum(counts, class_sizes)


def stratified_subset(y: np.ndarray, total: int, seed: int) -> np.ndarray:
    """Sorted indices of about ``total`` items with the class proportions of ``y``."""
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    classes = np.unique(y)
    sizes = np.array([(y == c).sum() for c in classes])
    counts = _per_class_counts(sizes, total)
    chosen = [rng.permutation(np.flatnonzero(y == c))[:k] for c, k in zip(classes, counts)]
    return np.sort(np.concatenate(chosen)) if chosen else np.array([], dtype=int)


def stratified_split(y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Split indices into (keep, held_out) with ``fraction`` of every class held out.

    Every class with two or more items gives at least one to each side.
    """
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    held = []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        k = int(round(len(idx) * fraction))
        if len(idx) >= 2:
            k = min(max(k, 1), len(idx) - 1)
        held.append(idx[:k])
    held_out = np.sort(np.concatenate(held)) if held else np.array([], dtype=int)
    keep = np.setdiff1d(np.arange(len(y)), held_out)
    return keep, held_out
