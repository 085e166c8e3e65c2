"""Is a photo one of the ten CIFAR-10 classes at all? The general model decides.

The ImageNet-1k general model (``efficientnet_lite0_imagenet.onnx``) runs on
the same image; its probabilities are summed per CIFAR-10 class through the
reviewed map ``data/imagenet_to_cifar10.json``. When the mass on classes that
map to one of the ten is below :data:`DEFAULT_SCOPE_THRESHOLD`, the photo is
out of scope: "None of the ten classes: this looks like a hot dog (99%)".
Images smaller than :data:`MIN_CHECK_SIDE` on their shorter side (CIFAR-10's
own 32x32 photos) are not checked (``in_scope`` None): upscaled that far the
general model spreads its probability over many classes and would call a
large share of real CIFAR-10 test images out of scope (docs/results.md).

Everything except :class:`ScopeChecker` is a pure function over arrays, so the
decision is tested without a model; the threshold is chosen by
``scripts/measure_scope.py`` (docs/results.md).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, cast

import numpy as np

from desktop_app.engine.contract import ModelInfo
from desktop_app.engine.lru import LruCache
from desktop_app.engine.verdict import ScopeVerdict

if TYPE_CHECKING:
    from desktop_app.engine.sessions import Device

MAP_FILE = Path(__file__).with_name("data") / "imagenet_to_cifar10.json"
NUM_IMAGENET = 1000
CIFAR10_LABELS: tuple[str, ...] = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
#: Mapped-mass threshold: a photo is in scope when the general model gives the ImageNet
#: classes of the ten CIFAR-10 classes together at least this probability. Chosen on
#: real photos and the CIFAR-10 test split by scripts/measure_scope.py (docs/results.md).
DEFAULT_SCOPE_THRESHOLD = 0.30
#: Shorter side (pixels, of the file as decoded) from which an image is checked.
MIN_CHECK_SIDE = 48
#: File stem of the shipped general model.
GENERAL_MODEL_NAME = "efficientnet_lite0_imagenet"
GENERAL_KIND = "general"


@dataclass(frozen=True)
class CifarMap:
    """ImageNet class indices of each CIFAR-10 class (an index in none maps to none of the ten)."""

    labels: tuple[str, ...]
    indices: tuple[tuple[int, ...], ...]

    def matrix(self, num_classes: int = NUM_IMAGENET) -> np.ndarray:
        """``(num_classes, 10)`` float32 0/1: row i is one-hot on the CIFAR class of ImageNet class i."""
        matrix = np.zeros((num_classes, len(self.labels)), np.float32)
        for column, rows in enumerate(self.indices):
            matrix[list(rows), column] = 1.0
        return matrix

    def cifar_class_of(self, imagenet_index: int) -> str | None:
        for label, rows in zip(self.labels, self.indices):
            if imagenet_index in rows:
                return label
        return None


def read_map(path: str | Path = MAP_FILE) -> CifarMap:
    """Read the ImageNet -> CIFAR-10 map; ``ValueError`` for an index out of range or in two classes."""
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    labels = tuple(doc["cifar10_labels"])
    indices = tuple(tuple(int(entry["index"]) for entry in doc["classes"].get(label, [])) for label in labels)
    flat = [i for rows in indices for i in rows]
    if len(set(flat)) != len(flat):
        raise ValueError(f"{path}: an ImageNet class is mapped to two CIFAR-10 classes")
    if any(not 0 <= i < NUM_IMAGENET for i in flat):
        raise ValueError(f"{path}: ImageNet indices must be in 0..{NUM_IMAGENET - 1}")
    return CifarMap(labels, indices)


@lru_cache(maxsize=1)
def default_map() -> CifarMap:
    return read_map()


def mapped_mass(probabilities: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """``(N, 1000)`` general-model probabilities -> ``(N, 10)`` probability per CIFAR-10 class."""
    return cast(np.ndarray, np.atleast_2d(np.asarray(probabilities, np.float32)) @ matrix)


def in_scope(mass: np.ndarray, threshold: float = DEFAULT_SCOPE_THRESHOLD) -> np.ndarray:
    """``(N,)`` bool: the summed mass on the ten classes reaches ``threshold``."""
    return cast(np.ndarray, np.atleast_2d(mass).sum(axis=1) >= threshold)


def with_none_of_the_ten(mass: np.ndarray) -> np.ndarray:
    """``(N, 10)`` mapped mass -> ``(N, 11)``: the ten plus "none of the ten" (the rest, clipped at 0)."""
    mass = np.atleast_2d(np.asarray(mass, np.float32))
    rest = np.clip(1.0 - mass.sum(axis=1, keepdims=True), 0.0, 1.0)
    return np.concatenate([mass, rest], axis=1)


def looks_like(probabilities: np.ndarray, labels: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """The general model's top label and its probability for each row."""
    probabilities = np.atleast_2d(probabilities)
    top = probabilities.argmax(axis=1)
    return [labels[i] for i in top], probabilities[np.arange(len(top)), top]


NOT_CHECKED = ScopeVerdict(in_scope=None)
TOO_SMALL = ScopeVerdict(
    in_scope=None, note=f"Too small for the check of the ten classes (under {MIN_CHECK_SIDE} pixels)"
)


def checkable(size: tuple[int, int] | None) -> bool:
    """Whether an image of ``size`` (width, height of the file; None: unknown) is checked."""
    return size is None or min(size) >= MIN_CHECK_SIDE


def verdicts(
    probabilities: np.ndarray,
    labels: Sequence[str],
    matrix: np.ndarray,
    threshold: float = DEFAULT_SCOPE_THRESHOLD,
    sizes: Sequence[tuple[int, int] | None] | None = None,
) -> list[ScopeVerdict]:
    """One :class:`ScopeVerdict` per row of ``(N, 1000)`` general-model probabilities.

    ``sizes``: each image's (width, height) as a file; those under :data:`MIN_CHECK_SIDE` get :data:`TOO_SMALL`.
    """
    mass = mapped_mass(probabilities, matrix).sum(axis=1)
    names, top = looks_like(probabilities, labels)
    sizes = [None] * len(names) if sizes is None else list(sizes)
    if len(sizes) != len(names):
        raise ValueError(f"{len(sizes)} sizes for {len(names)} images")
    return [
        ScopeVerdict(bool(m >= threshold), name, float(p), float(m)) if checkable(size) else TOO_SMALL
        for m, name, p, size in zip(mass.tolist(), names, top.tolist(), sizes)
    ]


def is_general_model(info: ModelInfo) -> bool:
    """A general (non-CIFAR) model: marked ``model_kind: general`` by ``python -m export imagenet``."""
    return info.training.get("model_kind") == GENERAL_KIND


def has_scope_check(info: ModelInfo) -> bool:
    """Whether the scope check applies: a model whose labels are exactly CIFAR-10's ten."""
    return tuple(info.labels) == CIFAR10_LABELS


def find_general_model(models: Iterable[ModelInfo]) -> ModelInfo | None:
    """The shipped general model among ``models`` (by name, else the first general one)."""
    general = [m for m in models if is_general_model(m) and m.num_classes == NUM_IMAGENET]
    return next((m for m in general if m.name == GENERAL_MODEL_NAME), general[0] if general else None)


class ScopeChecker:
    """Runs the general model on decoded images and says which are in scope."""

    #: Images whose shorter side is under this are not checked (callers need not decode them at 224x224).
    min_side = MIN_CHECK_SIDE

    def __init__(
        self,
        general: ModelInfo,
        device: Device | None = None,
        *,
        threshold: float = DEFAULT_SCOPE_THRESHOLD,
        cifar_map: CifarMap | None = None,
    ) -> None:
        from desktop_app.engine.classifier import get_classifier
        from desktop_app.engine.sessions import Device

        if general.num_classes != NUM_IMAGENET:
            raise ValueError(f"{general.name} has {general.num_classes} classes, not the 1,000 of ImageNet")
        self.info = general
        self.threshold = threshold
        self.classifier = get_classifier(general, Device.AUTO if device is None else device)
        self.matrix = (cifar_map or default_map()).matrix(NUM_IMAGENET)

    @property
    def input_size(self) -> tuple[int, int]:
        """(height, width) the images must be decoded at (224x224)."""
        return self.info.input_size

    def check_arrays(
        self,
        batch: np.ndarray,
        *,
        sizes: Sequence[tuple[int, int] | None] | None = None,
        parallel: bool = False,
        cancel: threading.Event | None = None,
    ) -> list[ScopeVerdict]:
        """``(N, H, W, 3)`` RGB 0..255 at :attr:`input_size` -> one verdict per image.

        ``sizes``: the files' (width, height), so that tiny images are not judged (:func:`checkable`);
        the general model runs only on the images that are. ``cancel``: as for ``Classifier.predict_arrays``.
        """
        sizes = [None] * len(batch) if sizes is None else list(sizes)
        if len(sizes) != len(batch):
            raise ValueError(f"{len(sizes)} sizes for {len(batch)} images")
        judged = [i for i, size in enumerate(sizes) if checkable(size)]
        found: list[ScopeVerdict] = [TOO_SMALL] * len(sizes)
        if judged:
            probabilities = self.classifier.predict_arrays(np.asarray(batch)[judged], parallel=parallel, cancel=cancel)
            for i, verdict in zip(judged, verdicts(probabilities, self.info.labels, self.matrix, self.threshold)):
                found[i] = verdict
        return found

    def check_file(self, source: str | Path | bytes, *, fit: str | None = None) -> ScopeVerdict:
        """Decode one image at the general model's size and check it (``NOT_CHECKED`` if unreadable)."""
        from desktop_app.engine.images import DEFAULT_FIT, ImageLoadError, load_image

        try:
            array = load_image(source, self.input_size, fit=fit or DEFAULT_FIT)
        except ImageLoadError:
            return NOT_CHECKED
        return self.check_arrays(array[None], sizes=[image_size(source)])[0]


def image_size(source: str | Path | bytes) -> tuple[int, int] | None:
    """(width, height) of an image file from its header (None if unreadable): what :func:`checkable` needs."""
    import io

    from PIL import Image

    fp = io.BytesIO(bytes(source)) if isinstance(source, (bytes, bytearray, memoryview)) else source
    try:
        image = Image.open(fp)
        with image:  # not "as": Pillow's __enter__ is untyped
            return image.size
    except (OSError, ValueError):
        return None


#: Second opinions kept by :func:`second_opinion_for` (each holds a session with its weights).
CHECKER_CACHE_SIZE = 4
_checkers: LruCache[tuple[str, str], object] = LruCache(CHECKER_CACHE_SIZE)


def check_kind(info: ModelInfo) -> str:
    """Which second opinion ``info`` gets: "scope" (a 10-class CIFAR model), "novelty" (a taught model), or ""."""
    from desktop_app.engine.taught_models import is_taught

    if has_scope_check(info):
        return "scope"
    return "novelty" if is_taught(info) else ""


def second_opinion_for(info: ModelInfo, models: Iterable[ModelInfo], device=None, *, enabled: bool = True):  # type: ignore[no-untyped-def]
    """The check that runs beside ``info`` (``Classifier.classify`` / ``classify_stream``'s ``scope``), or None.

    A 10-class CIFAR model gets a :class:`ScopeChecker` over the general model
    found among ``models``; a taught model its ``NoveltyCheck``; the general model, the derived model
    ("none of the ten" built in) and other models get None, as does
    ``enabled=False``. Checkers are cached per (file, device) like
    ``get_classifier``.
    """
    from desktop_app.engine.sessions import Device

    kind = check_kind(info) if enabled else ""
    if kind == "scope":
        general = find_general_model(models)
        if general is None:
            return None
        path = general.path
    elif kind == "novelty":
        path = info.path
    else:
        return None
    device = Device.AUTO if device is None else Device(device)
    key = (f"{kind}:{Path(path).resolve()}:{Path(path).stat().st_mtime_ns}", device.value)

    def make() -> object | None:
        if kind == "scope":
            return ScopeChecker(general, device)  # type: ignore[arg-type]
        from desktop_app.engine.novelty import NoveltyCheck

        return NoveltyCheck.for_model(info, device)

    return _checkers.get(key, make)
