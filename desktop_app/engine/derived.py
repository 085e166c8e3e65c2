"""Derived models: a small ``*.derived`` manifest that answers other labels from a shipped model's file.

``cifar10_via_imagenet.derived`` (JSON) names a base ONNX file beside it (the
ImageNet general model) and a class map (``data/imagenet_to_cifar10.json``).
Its answer is the base model's probabilities summed per CIFAR-10 class, with
the rest as "none of the ten": a fifth way to answer the ten classes that
stores no second copy of the backbone. The registry lists it like any model
(:func:`read_derived_info`); :func:`get_classifier` gives it a
:class:`DerivedClassifier`, which runs the base file's session.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import numpy as np

from desktop_app.engine.classifier import DEFAULT_UNSURE_THRESHOLD, Classifier
from desktop_app.engine.contract import ModelContractError, ModelInfo
from desktop_app.engine.model_cache import cached_model_info
from desktop_app.engine.scope import MAP_FILE, NUM_IMAGENET, read_map, with_none_of_the_ten
from desktop_app.engine.sessions import Device

SUFFIX = ".derived"
NONE_OF_THE_TEN = "none of the ten"
DERIVED_KIND = "derived"
#: Class maps a manifest may name (one today).
MAPS = {"imagenet_to_cifar10": MAP_FILE}


def is_derived(info: ModelInfo) -> bool:
    return info.path.suffix == SUFFIX


def _manifest(path: Path) -> dict[str, Any]:
    try:
        doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelContractError(path, [f"cannot be read ({exc})"]) from exc
    except json.JSONDecodeError as exc:
        raise ModelContractError(path, [f"not valid JSON ({exc.msg})"]) from exc
    problems = [f"manifest has no '{key}'" for key in ("base", "map") if not isinstance(doc.get(key), str)]
    if not problems and doc["map"] not in MAPS:
        problems.append(f"unknown map '{doc['map']}' (known: {', '.join(MAPS)})")
    if problems:
        raise ModelContractError(path, problems)
    return doc


def base_path(path: str | Path) -> Path:
    """The base ONNX file a manifest names (relative to the manifest's folder)."""
    path = Path(path)
    base: str = _manifest(path)["base"]  # _manifest made sure it is a str
    return path.parent / base


def read_derived_info(path: str | Path) -> ModelInfo:
    """Describe a ``*.derived`` manifest as a model; ``ModelContractError`` if it or its base is unusable."""
    path = Path(path)
    doc = _manifest(path)
    try:
        base = cached_model_info(path.parent / doc["base"])
    except ModelContractError as exc:
        raise ModelContractError(path, [f"base model {doc['base']}: {p}" for p in exc.problems]) from exc
    cifar_map = read_map(MAPS[doc["map"]])
    if base.num_classes != NUM_IMAGENET:
        problem = f"base model {doc['base']} has {base.num_classes} classes, the map needs {NUM_IMAGENET}"
        raise ModelContractError(path, [problem])
    return ModelInfo(
        path=path,
        labels=(*cifar_map.labels, NONE_OF_THE_TEN),
        input_name=base.input_name,
        input_size=base.input_size,
        output_name=base.output_name,
        display_name=doc.get("display_name") or path.stem,
        description=doc.get("description", ""),
        architecture=doc.get("architecture", base.architecture),
        dataset=doc.get("dataset", base.dataset),
        params=base.params,
        metrics=dict(doc.get("metrics") or {}),
        training={
            "model_kind": DERIVED_KIND,
            "base": doc["base"],
            "map": doc["map"],
            **dict(doc.get("training") or {}),
        },
    )


def read_any_model_info(path: str | Path) -> ModelInfo:
    """:func:`cached_model_info` for ``.onnx``, :func:`read_derived_info` for ``.derived``."""
    return read_derived_info(path) if Path(path).suffix == SUFFIX else cached_model_info(path)


def derived_probabilities(general: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """``(N, 1000)`` -> ``(N, 11)``: the ten classes' summed probabilities plus "none of the ten"."""
    return with_none_of_the_ten(np.asarray(general, np.float32) @ matrix)


def classifier_for(
    info: ModelInfo, device: Device = Device.AUTO, *, unsure_threshold: float = DEFAULT_UNSURE_THRESHOLD
) -> Classifier:
    """A new :class:`Classifier` for any model the registry lists (a :class:`DerivedClassifier` for ``.derived``)."""
    cls = DerivedClassifier if is_derived(info) else Classifier
    return cls(info, device, unsure_threshold=unsure_threshold)


class DerivedClassifier(Classifier):
    """A :class:`Classifier` whose sessions run the base file and whose rows are mapped."""

    def __init__(
        self, info: ModelInfo, device: Device = Device.AUTO, *, unsure_threshold: float = DEFAULT_UNSURE_THRESHOLD
    ) -> None:
        self.base_info = cached_model_info(base_path(info.path))
        super().__init__(self.base_info, device, unsure_threshold=unsure_threshold)  # sessions on the base file
        self.info = info  # labels, name and display name of the derived model; same input as the base
        self.matrix = read_map(MAPS[info.training["map"]]).matrix(NUM_IMAGENET)

    def predict_arrays(
        self, batch: np.ndarray, *, parallel: bool = False, cancel: threading.Event | None = None
    ) -> np.ndarray:
        """``(N, H, W, 3)`` RGB 0..255 -> ``(N, 11)``: CIFAR-10 classes plus "none of the ten"."""
        return derived_probabilities(super().predict_arrays(batch, parallel=parallel, cancel=cancel), self.matrix)
