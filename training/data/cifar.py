"""CIFAR-10 from ``keras.datasets`` (downloads once; for users who are online).

Commands read a local copy from ``--data`` or ``$CIFAR10_DATA``
(:mod:`training.data_source`); without either, training downloads CIFAR-10
with Keras. ``cifar-train jpeg-copy OUT`` writes that download as a JPEG
folder (:func:`write_jpeg_copy`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

CIFAR10_LABELS = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
#: How the JPEG copy the shipped models were measured on was written (its README.txt).
JPEG_QUALITY = 75


def write_jpeg_copy(out: str | Path, splits: dict[str, tuple[np.ndarray, np.ndarray]] | None = None) -> int:
    """Write ``out/<split>/<class>/NNNN.jpg`` (quality 75, like the copy the shipped models were measured on).

    ``splits``: ``{"train": (x, y), "test": (x, y)}`` uint8 images and label
    indices; default: the Keras download. Returns the number of files written.
    """
    from PIL import Image

    if splits is None:
        x_train, y_train, x_test, y_test = load_keras_cifar10()
        splits = {"train": (x_train, y_train), "test": (x_test, y_test)}
    out = Path(out)
    written = 0
    for split, (images, labels) in splits.items():
        counts: dict[int, int] = {}
        for image, label in zip(images, np.asarray(labels).reshape(-1)):
            index = counts.get(int(label), 0)
            counts[int(label)] = index + 1
            folder = out / split / CIFAR10_LABELS[int(label)]
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(np.asarray(image, dtype=np.uint8)).save(folder / f"{index:04d}.jpg", quality=JPEG_QUALITY)
            written += 1
    return written


def load_keras_cifar10() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train, y_train, x_test, y_test) as uint8 images and int32 labels.

    Raises ``FileNotFoundError`` saying what to do when the download fails (offline).
    """
    import keras

    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
    except Exception as exc:  # Keras raises a bare Exception for a failed fetch
        raise FileNotFoundError(
            f"CIFAR-10 could not be downloaded by Keras ({exc}); connect to the network once, "
            "or give a local copy with --data PATH or CIFAR10_DATA=PATH"
        ) from exc
    return (
        x_train.astype(np.uint8),
        y_train.reshape(-1).astype(np.int32),
        x_test.astype(np.uint8),
        y_test.reshape(-1).astype(np.int32),
    )
