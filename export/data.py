"""Labelled images for parity, calibration and evaluation.

Reads a folder-layout dataset such as the CIFAR-10 JPEG copy (a ``.tar.gz``
or an unpacked folder, laid out ``<split>/<class>/<file>.jpg``, optionally
inside one top-level folder) through the training data code: the layout is
listed by :func:`training.data.layout.list_dataset` and the images are
decoded by :func:`training.data.decode.decode_files`, which uses the
engine's ``load_image``, the very function the app uses, so the numbers
measured here are the numbers the app gets.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from training.data.decode import decode_files
from training.data.layout import SPLITS, list_dataset


def load_split(
    path: str | Path,
    labels: Sequence[str],
    *,
    split: str = "test",
    limit: int | None = None,
    size: tuple[int, int] = (32, 32),
) -> tuple[np.ndarray, np.ndarray]:
    """Images ``(N, H, W, 3)`` float32 0..255 and label indices ``(N,)`` of one split.

    ``limit`` keeps the first ``ceil(limit / classes)`` files of every class
    (in listing order), then at most ``limit`` in all, so a small sample is
    still balanced; only those files are decoded. Class folders that are not
    in ``labels`` raise ``ValueError``, as does a source that does not fit
    the layout (``DatasetLayoutError``) or holds unreadable images.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"data not found: {path}")
    if split not in SPLITS:
        raise ValueError(f"split must be one of {list(SPLITS)}, not {split!r}")
    listing = list_dataset(path)
    index = {name: i for i, name in enumerate(labels)}
    for class_name in listing.labels:
        if class_name not in index:
            raise ValueError(f"{path}: class folder '{class_name}' is not one of the model's labels {list(labels)}")
    items = listing.files[split]
    if limit is not None:
        per_class = -(-limit // len(labels))
        counts: dict[int, int] = {}
        chosen = []
        for name, folder in items:
            if counts.get(folder, 0) < per_class:
                counts[folder] = counts.get(folder, 0) + 1
                chosen.append((name, folder))
        items = chosen[:limit]
    if not items:
        raise ValueError(f"{path}: no images in the '{split}' split")
    names = [name for name, _ in items]
    images, skipped = decode_files(listing.source, names, size)  # uint8: load_image's values are whole numbers
    if skipped:
        shown = "; ".join(f"{file}: {reason}" for file, reason in skipped[:5])
        more = f" and {len(skipped) - 5} more" if len(skipped) > 5 else ""
        raise ValueError(f"{path}: {len(skipped)} unreadable image(s) in the '{split}' split: {shown}{more}")
    missing = [name for name in names if name not in images]
    if missing:
        raise ValueError(f"{path}: {len(missing)} listed image(s) could not be read, first {missing[0]}")
    targets = [index[listing.labels[folder]] for _, folder in items]
    return np.stack([images[name] for name in names]).astype(np.float32), np.asarray(targets, dtype=np.int64)
