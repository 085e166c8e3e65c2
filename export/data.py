"""Labelled images for parity, calibration and evaluation.

Reads the CIFAR-10 JPEG copy (a ``.tar.gz`` or an unpacked folder, laid out
``<split>/<class>/<file>.jpg``) in one streaming pass and decodes every image
with the engine's ``load_image``, the very function the app uses, so the
numbers measured here are the numbers the app gets.
"""

from __future__ import annotations

import tarfile
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from desktop_app.engine.images import load_image

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "cifar10-jpeg.tar.gz"


def _tar_members(path: Path, split: str) -> Iterator[tuple[str, str, bytes]]:
    with tarfile.open(path, "r:*") as archive:
        for member in archive:
            parts = member.name.lstrip("./").split("/")
            if member.isfile() and len(parts) == 3 and parts[0] == split:
                handle = archive.extractfile(member)
                if handle is not None:
                    yield parts[1], parts[2], handle.read()


def _folder_members(path: Path, split: str) -> Iterator[tuple[str, str, bytes]]:
    for class_dir in sorted(p for p in (path / split).iterdir() if p.is_dir()):
        for file in sorted(class_dir.iterdir()):
            if file.is_file():
                yield class_dir.name, file.name, file.read_bytes()


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
    (in archive order), so a small sample is still balanced. Class folders
    that are not in ``labels`` raise ``ValueError``.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"data not found: {path}")
    index = {name: i for i, name in enumerate(labels)}
    per_class = None if limit is None else -(-limit // len(labels))
    counts: dict[str, int] = {}
    images: list[np.ndarray] = []
    targets: list[int] = []
    members = _folder_members(path, split) if path.is_dir() else _tar_members(path, split)
    for class_name, file_name, payload in members:
        if class_name not in index:
            raise ValueError(f"{path}: class folder '{class_name}' is not one of the model's labels {list(labels)}")
        if per_class is not None and counts.get(class_name, 0) >= per_class:
            continue
        counts[class_name] = counts.get(class_name, 0) + 1
        images.append(load_image(payload, size))
        targets.append(index[class_name])
        if per_class is not None and len(counts) == len(index) and min(counts.values()) >= per_class:
            break  # every class has its share: stop reading the archive
    if not images:
        raise ValueError(f"{path}: no images in the '{split}' split")
    order = np.arange(len(images))
    if limit is not None and len(order) > limit:
        order = order[:limit]
    return np.stack([images[i] for i in order]), np.asarray(targets, dtype=np.int64)[order]
