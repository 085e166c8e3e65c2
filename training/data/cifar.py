"""CIFAR-10 from ``keras.datasets`` (downloads once; for users who are online)."""

from __future__ import annotations

import numpy as np

CIFAR10_LABELS = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


def load_keras_cifar10() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train, y_train, x_test, y_test) as uint8 images and int32 labels."""
    import keras

    (x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
    return (
        x_train.astype(np.uint8),
        y_train.reshape(-1).astype(np.int32),
        x_test.astype(np.uint8),
        y_test.reshape(-1).astype(np.int32),
    )
