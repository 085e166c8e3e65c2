"""Training-only augmentation: Keras layers in a wrapper model, and mixup batches.

The pixel augmentations run as layers of a wrapper around the base model,
so on the GPU machine they run on the accelerator inside the compiled step;
in inference mode they pass images through unchanged. The exported base
model never contains them. Mixup needs the labels, so it is done on the
host when :class:`ArrayBatches` builds a batch (a cheap blend of two arrays).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from training.recipes import Recipe

#: Cutout fills with mid-grey: the models take raw 0..255 pixels.
CUTOUT_FILL = 128.0


@keras.saving.register_keras_serializable(package="training")
class Cutout(layers.Layer):
    """Erase one random ``size`` x ``size`` square per image (DeVries & Taylor, 2017).

    The square's centre is uniform over the image, so it may be clipped at
    the border, as in the paper. Identity outside training.
    """

    def __init__(self, size: int, fill: float = CUTOUT_FILL, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.size, self.fill, self.seed = int(size), float(fill), seed
        self.generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=None):
        if not training or self.size <= 0:
            return images
        shape = ops.shape(images)
        batch, height, width = shape[0], shape[1], shape[2]
        cy = keras.random.randint((batch, 1, 1), 0, height, seed=self.generator)
        cx = keras.random.randint((batch, 1, 1), 0, width, seed=self.generator)
        rows = ops.reshape(ops.arange(height), (1, -1, 1))
        cols = ops.reshape(ops.arange(width), (1, 1, -1))
        top, left = cy - self.size // 2, cx - self.size // 2
        inside = (rows >= top) & (rows < top + self.size) & (cols >= left) & (cols < left + self.size)
        mask = ops.cast(ops.expand_dims(inside, -1), images.dtype)
        return images * (1 - mask) + self.fill * mask

    def get_config(self):
        return {**super().get_config(), "size": self.size, "fill": self.fill, "seed": self.seed}


@keras.saving.register_keras_serializable(package="training")
class RandomShift(layers.Layer):
    """Zero-pad by ``padding`` pixels and crop back at a random place: an integer shift.

    Each image is shifted by whole pixels, ``dy, dx`` uniform in
    ``[-padding, padding]``, with zeros shifted in. Done as two small
    batched matrix products with 0/1 shift matrices (exact for any pixel
    value), because ``RandomTranslation`` goes through an affine resampler
    (``map_coordinates`` on JAX) that took ~200 ms a step on an H200, more
    than the models themselves. Identity outside training.
    """

    def __init__(self, padding: int, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.padding, self.seed = int(padding), seed
        self.generator = keras.random.SeedGenerator(seed)

    @staticmethod
    def shift_matrices(shifts, size: int):
        """``(batch, size, size)`` matrices M with ``(M @ v)[i] = v[i - shift]`` (zero outside)."""
        rows = ops.reshape(ops.arange(size), (1, size, 1))
        cols = ops.reshape(ops.arange(size), (1, 1, size))
        return ops.cast(ops.equal(cols, rows - ops.reshape(shifts, (-1, 1, 1))), "float32")

    def call(self, images, training=None):
        if not training or self.padding <= 0:
            return images
        shape = ops.shape(images)
        batch, height, width = shape[0], images.shape[1], images.shape[2]
        offsets = keras.random.randint((2, batch), -self.padding, self.padding + 1, seed=self.generator)
        rows = self.shift_matrices(offsets[0], height)
        cols = self.shift_matrices(offsets[1], width)
        images = ops.cast(images, "float32")
        shifted = ops.einsum("bij,bjkc->bikc", rows, images)
        return ops.einsum("blk,bikc->bilc", cols, shifted)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding, "seed": self.seed}


def augmentation_layers(recipe: Recipe, seed: int) -> list[layers.Layer]:
    """The recipe's pixel augmentations, in float32 whatever the compute policy."""
    augment: list[layers.Layer] = []
    if recipe.crop_padding:
        augment.append(RandomShift(recipe.crop_padding, seed=seed, dtype="float32", name="crop"))
    if recipe.flip:
        augment.append(layers.RandomFlip("horizontal", seed=seed + 1, dtype="float32", name="flip"))
    if recipe.cutout:
        augment.append(Cutout(recipe.cutout, seed=seed + 2, dtype="float32", name="cutout"))
    return augment


def training_wrapper(base: keras.Model, recipe: Recipe, seed: int) -> keras.Model:
    """``base`` behind the recipe's augmentation layers; trains ``base``'s weights in place."""
    inputs = keras.Input(base.input_shape[1:], name="image")
    x = inputs
    for layer in augmentation_layers(recipe, seed):
        x = layer(x)
    return keras.Model(inputs, base(x), name=f"{base.name}_training")


class ArrayBatches(keras.utils.PyDataset):
    """Shuffled float32 batches with one-hot labels from uint8 arrays, optional mixup.

    Reshuffles every epoch (seeded); drops the last partial batch so every
    step has the same shape (one compilation on JAX).
    """

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray,
        num_classes: int,
        batch_size: int,
        *,
        seed: int = 0,
        mixup_alpha: float = 0.0,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.x, self.y, self.num_classes = x, y, num_classes
        self.batch_size = max(1, min(batch_size, len(x)))
        self.mixup_alpha = mixup_alpha
        self.rng = np.random.default_rng(seed)
        self.order = self.rng.permutation(len(x))

    def __len__(self) -> int:
        return max(1, len(self.x) // self.batch_size)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        idx = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        images = self.x[idx].astype(np.float32)
        labels = np.eye(self.num_classes, dtype=np.float32)[self.y[idx]]
        if self.mixup_alpha > 0:
            lam = np.float32(self.rng.beta(self.mixup_alpha, self.mixup_alpha))
            partner = self.rng.permutation(len(idx))
            images = lam * images + (1 - lam) * images[partner]
            labels = lam * labels + (1 - lam) * labels[partner]
        return images, labels

    def on_epoch_end(self) -> None:
        self.order = self.rng.permutation(len(self.x))


def steps_per_epoch(num_images: int, batch_size: int) -> int:
    return max(1, num_images // max(1, min(batch_size, num_images)))


def one_hot(y: np.ndarray, num_classes: int) -> np.ndarray:
    return np.eye(num_classes, dtype=np.float32)[y]


__all__ = [
    "ArrayBatches",
    "Cutout",
    "RandomShift",
    "augmentation_layers",
    "one_hot",
    "steps_per_epoch",
    "training_wrapper",
]
