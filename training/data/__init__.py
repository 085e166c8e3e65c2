"""Training data: CIFAR-10 from Keras or a folder/``.tar.gz`` dataset, split three ways.

:func:`load_dataset` returns uint8 images (decoded once, then cached) with a
seeded, stratified validation split carved from the training images. The
test split is kept apart: it is only for the final report.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from training.data import cache
from training.data.cifar import CIFAR10_LABELS, load_keras_cifar10
from training.data.decode import decode_files, stack
from training.data.layout import DatasetLayoutError, Listing, list_dataset
from training.data.splits import stratified_split, stratified_subset

__all__ = ["CIFAR10_LABELS", "Dataset", "DatasetLayoutError", "load_dataset", "limited_test_size"]

log = logging.getLogger(__name__)

#: Share of the training images held out for validation (CIFAR-10: 45,000 / 5,000).
VAL_FRACTION = 0.1


@dataclass
class Dataset:
    """Three splits of uint8 images ``(N, H, W, 3)`` with int32 labels, and what was skipped."""

    name: str
    labels: tuple[str, ...]
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "train_images": int(len(self.y_train)),
            "val_images": int(len(self.y_val)),
            "test_images": int(len(self.y_test)),
            "skipped_files": [{"file": f, "reason": r} for f, r in self.skipped],
        }


def limited_test_size(limit: int, num_classes: int) -> int:
    """With ``--limit N`` the test split keeps N/5 images (CIFAR-10's 50,000:10,000 ratio)."""
    return max(limit // 5, num_classes)


def _select(listing: Listing, limit: int | None, seed: int) -> dict[str, list[tuple[str, int]]]:
    chosen = {}
    for split, items in listing.files.items():
        if limit is None:
            chosen[split] = items
            continue
        n = limit if split == "train" else limited_test_size(limit, len(listing.labels))
        idx = stratified_subset(np.array([c for _, c in items]), n, seed)
        chosen[split] = [items[i] for i in idx]
    return chosen


def _decode_listing(source: Path, limit: int | None, seed: int, size: tuple[int, int], use_cache: bool):
    from desktop_app.engine.images import DEFAULT_FIT

    if not source.exists():
        list_dataset(source)  # raises the layout error that names the problem
    key = cache.cache_key(source, limit=limit, seed=seed, size=list(size), fit=DEFAULT_FIT)
    hit = cache.load(key) if use_cache else None
    if hit is not None:
        log.info("using cached decoded images %s", cache.cache_dir() / f"{key}.npz")
        skipped = [tuple(s) for s in hit["meta"]["skipped"]]
        labels = tuple(hit["meta"]["labels"])
        return labels, hit["x_train"], hit["y_train"], hit["x_test"], hit["y_test"], skipped
    listing = list_dataset(source)
    chosen = _select(listing, limit, seed)
    images, skipped = decode_files(listing.source, [n for items in chosen.values() for n, _ in items], size)
    x_train, y_train = stack(images, chosen["train"], size)
    x_test, y_test = stack(images, chosen["test"], size)
    if use_cache:
        arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
        cache.save(key, arrays, {"labels": list(listing.labels), "skipped": skipped})
    return listing.labels, x_train, y_train, x_test, y_test, skipped


def _dataset_name(source: Path | None, labels: tuple[str, ...]) -> str:
    if source is None:
        return "CIFAR-10 (keras.datasets)"
    base = "CIFAR-10" if labels == CIFAR10_LABELS else f"{len(labels)}-class dataset"
    return f"{base} ({source.name})"


def load_dataset(
    data: str | Path | None = None,
    *,
    limit: int | None = None,
    seed: int = 0,
    val_fraction: float = VAL_FRACTION,
    image_size: tuple[int, int] = (32, 32),
    use_cache: bool = True,
) -> Dataset:
    """Load, decode (or read from the cache) and split a dataset.

    ``data``: None for ``keras.datasets.cifar10``, else a folder or
    ``.tar.gz`` with ``train/<class>/*`` and ``test/<class>/*``.
    ``limit``: a stratified subset of N training and N/5 test images (only
    those are decoded). Raises :class:`DatasetLayoutError` for a source
    that does not fit the layout or holds no readable training images.
    """
    if limit is not None and limit < 1:
        raise ValueError("limit must be a positive number of images")
    source = None if data is None else Path(data).expanduser()
    if source is None:
        labels = CIFAR10_LABELS
        x_train, y_train, x_test, y_test = load_keras_cifar10()
        skipped: list[tuple[str, str]] = []
        if limit is not None:
            keep = stratified_subset(y_train, limit, seed)
            x_train, y_train = x_train[keep], y_train[keep]
            keep = stratified_subset(y_test, limited_test_size(limit, len(labels)), seed)
            x_test, y_test = x_test[keep], y_test[keep]
    else:
        labels, x_train, y_train, x_test, y_test, skipped = _decode_listing(source, limit, seed, image_size, use_cache)
    if skipped:
        shown = "\n  ".join(f"{f}: {r}" for f, r in skipped[:20])
        more = f"\n  ... and {len(skipped) - 20} more" if len(skipped) > 20 else ""
        log.warning("skipped %d unreadable file(s):\n  %s%s", len(skipped), shown, more)
    for split, y in (("train", y_train), ("test", y_test)):
        if len(y) == 0:
            raise DatasetLayoutError(f"{source}: no readable images in the {split} split")
    keep, held = stratified_split(y_train, val_fraction, seed)
    return Dataset(
        name=_dataset_name(source, labels),
        labels=tuple(labels),
        x_train=x_train[keep],
        y_train=y_train[keep],
        x_val=x_train[held],
        y_val=y_train[held],
        x_test=x_test,
        y_test=y_test,
        skipped=skipped,
    )
