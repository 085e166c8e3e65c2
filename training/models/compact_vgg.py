"""The study's small CNN that it called "VGG16": 356,810 parameters.

Despite the study's name it is not VGG16: three Conv2D -> MaxPool stages
(32, 64, 128 filters), Flatten (4x4x128 = 2048) -> Dense(128) -> Dropout.
The study gives no dropout rate; 0.3 is ours: the study saw overfitting,
but with augmentation this small network underfits sooner than it overfits.
"""

from __future__ import annotations

import keras
from keras import layers

FILTERS = (32, 64, 128)
DENSE = 128
HEAD_DROPOUT = 0.3


def build_compact_vgg(*, num_classes: int = 10, tiny: bool = False) -> keras.Model:
    """Raw 0..255 RGB 32x32 in, class probabilities out."""
    div = 4 if tiny else 1
    inputs = keras.Input((32, 32, 3), name="image")
    x = layers.Rescaling(1.0 / 255, name="rescale")(inputs)
    for i, filters in enumerate(FILTERS, start=1):
        x = layers.Conv2D(filters // div, 3, padding="same", activation="relu", name=f"conv{i}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{i}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(DENSE // div, activation="relu", name="dense")(x)
    x = layers.Dropout(HEAD_DROPOUT, name="dense_dropout")(x)
    outputs = layers.Dense(num_classes, activation="softmax", dtype="float32", name="predictions")(x)
    return keras.Model(inputs, outputs, name="compact_vgg")
