"""Fixtures of the training tests: generated image datasets and an isolated cache."""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image

#: Class -> RGB colour of the generated images (a model can learn these in a few steps).
COLOURS = {"blue": (30, 40, 220), "green": (40, 200, 50), "red": (220, 30, 40)}
TRAIN_PER_CLASS, TEST_PER_CLASS = 12, 4
CORRUPT = "train/red/broken.jpg"


@pytest.fixture(scope="session", autouse=True)
def isolated_cache(tmp_path_factory: pytest.TempPathFactory):
    """Decoded-dataset caches go to a temporary folder, never to ~/.cache."""
    previous = os.environ.get("CIFAR_CLASSIFIER_CACHE")
    os.environ["CIFAR_CLASSIFIER_CACHE"] = str(tmp_path_factory.mktemp("dataset-cache"))
    yield
    if previous is None:
        os.environ.pop("CIFAR_CLASSIFIER_CACHE", None)
    else:
        os.environ["CIFAR_CLASSIFIER_CACHE"] = previous


def _image(colour: tuple[int, int, int], seed: int, size: tuple[int, int]) -> Image.Image:
    rng = np.random.default_rng(seed)
    pixels = np.clip(np.array(colour) + rng.normal(0, 12, (size[1], size[0], 3)), 0, 255)
    return Image.fromarray(pixels.astype(np.uint8))


def make_dataset(root: Path, *, corrupt: bool = True) -> Path:
    """``train/<colour>/*`` and ``test/<colour>/*`` of JPEG and PNG images of mixed sizes."""
    seed = 0
    for split, count in (("train", TRAIN_PER_CLASS), ("test", TEST_PER_CLASS)):
        for label, colour in COLOURS.items():
            folder = root / split / label
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(count):
                seed += 1
                size = (32, 32) if i % 3 else (48, 40)  # some need resizing
                suffix = ".png" if i % 2 else ".jpg"
                _image(colour, seed, size).save(folder / f"{i:03d}{suffix}")
    if corrupt:
        (root / CORRUPT).write_bytes(b"this is not a JPEG")
    (root / "README.txt").write_text("generated for tests\n")
    return root


@pytest.fixture(scope="session")
def colour_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder dataset of three colour classes with one corrupt file."""
    return make_dataset(tmp_path_factory.mktemp("colours") / "colours")


@pytest.fixture(scope="session")
def colour_tarball(colour_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same dataset as a .tar.gz with everything inside one top-level folder."""
    path = tmp_path_factory.mktemp("archive") / "colours.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        tar.add(colour_dataset, arcname="colours")
    return path


@pytest.fixture(scope="session")
def standin_backbone_weights(tmp_path_factory) -> tuple:
    """A randomly initialised ResNet50 backbone saved as a Keras weights file."""
    keras.utils.set_random_seed(123)
    backbone = keras.applications.ResNet50(include_top=False, weights=None)
    path = tmp_path_factory.mktemp("standin") / "resnet50_notop.weights.h5"
    backbone.save_weights(str(path))
    first = [keras.ops.convert_to_numpy(w) for w in backbone.weights[:3]]
    return path, first, keras.ops.convert_to_numpy(backbone.weights[-1])
