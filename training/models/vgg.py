"""The study's VGG-style CNN trained from scratch: 28,340,298 parameters.

Five blocks of [Conv2D -> BatchNorm] x 2 -> MaxPool with 64..512 filters,
then Flatten (1x1x512) -> Dense(4096) -> Dropout -> Dense(4096) -> Dropout.
The study gives no dropout rate; 0.5 is VGG's own and suits the two huge
dense layers (18.9M of the 28.3M parameters).
"""

from __future__ import annotations

import keras
from keras import layers

FILTERS = (64, 128, 256, 512, 512)
DENSE = (4096, 4096)
HEAD_DROPOUT = 0.5
#: Keras defaults to 0.99; 0.9 (PyTorch's default) lets the statistics keep up with early training.
BN_MOMENTUM = 0.9


def build_vgg(*, num_classes: int = 10, tiny: bool = False) -> keras.Model:
    """Raw 0..255 RGB 32x32 in, class probabilities out."""
    div = 16 if tiny else 1
    inputs = keras.Input((32, 32, 3), name="image")
    x = layers.Rescaling(1.0 / 255, name="rescale")(inputs)
    for i, filters in enumerate(FILTERS, start=1):
        for j in (1, 2):
            x = layers.Conv2D(filters // div, 3, padding="same", activation="relu", name=f"block{i}_conv{j}")(x)
            x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"block{i}_bn{j}")(x)
        x = layers.MaxPooling2D(2, name=f"block{i}_pool")(x)
    x = layers.Flatten(name="flatten")(x)
    for j, units in enumerate(DENSE, start=1):
        x = layers.Dense(units // div, activation="relu", name=f"dense{j}")(x)
        x = layers.Dropout(HEAD_DROPOUT, name=f"dense{j}_dropout")(x)
    outputs = layers.Dense(num_classes, activation="softmax", dtype="float32", name="predictions")(x)
    return keras.Model(inputs, outputs, name="vgg")
