"""The study's deep CNN trained from scratch: 5,772,970 parameters.

Five blocks of Conv2D -> BatchNorm -> Conv2D -> MaxPool -> Dropout with
32..512 filters (the very first kernel is 5x5), then global average pooling
and a 1024 -> 512 -> 10 dense head. The study gives no dropout rates; ours
grow with depth (0.1 .. 0.3 in the blocks, 0.4 in the head), chosen because
the recipe's augmentation and label smoothing already regularise strongly.
"""

from __future__ import annotations

import keras
from keras import layers

FILTERS = (32, 64, 128, 256, 512)
DENSE = (1024, 512)
BLOCK_DROPOUT = (0.1, 0.15, 0.2, 0.25, 0.3)
HEAD_DROPOUT = 0.4
#: Keras defaults to 0.99; 0.9 (PyTorch's default) lets the statistics keep up with early training.
BN_MOMENTUM = 0.9


def build_deep_cnn(*, num_classes: int = 10, tiny: bool = False) -> keras.Model:
    """Raw 0..255 RGB 32x32 in, class probabilities out."""
    div = 8 if tiny else 1
    inputs = keras.Input((32, 32, 3), name="image")
    x = layers.Rescaling(1.0 / 255, name="rescale")(inputs)
    for i, (filters, rate) in enumerate(zip(FILTERS, BLOCK_DROPOUT), start=1):
        f = filters // div
        first_kernel = 5 if i == 1 else 3
        x = layers.Conv2D(f, first_kernel, padding="same", activation="relu", name=f"block{i}_conv1")(x)
        x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"block{i}_bn")(x)
        x = layers.Conv2D(f, 3, padding="same", activation="relu", name=f"block{i}_conv2")(x)
        x = layers.MaxPooling2D(2, name=f"block{i}_pool")(x)
        x = layers.Dropout(rate, name=f"block{i}_dropout")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    for j, units in enumerate(DENSE, start=1):
        x = layers.Dense(units // div, activation="relu", name=f"dense{j}")(x)
        x = layers.Dropout(HEAD_DROPOUT, name=f"dense{j}_dropout")(x)
    outputs = layers.Dense(num_classes, activation="softmax", dtype="float32", name="predictions")(x)
    return keras.Model(inputs, outputs, name="deep_cnn")
