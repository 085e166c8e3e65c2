"""A stand-in general model and generated class folders for the teach tests.

The stand-in has the shipped EfficientNet-Lite0 ImageNet model's structure
(NHWC RGB 0..255 input -> scaling -> Conv -> ReLU -> GlobalAveragePool ->
Squeeze -> MatMul + Add -> Softmax, weights optionally stored as float16
behind a Cast like ``export reduce`` writes them) at a small size, so tests
exercise the same graph search and surgery in milliseconds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

from desktop_app.engine.contract import encode_metadata

FEATURES = 24
SIZE = (32, 32)
#: Mean colours of the generated classes (the features separate them easily).
CLASS_COLOURS = {"apples": (200, 40, 40), "leaves": (40, 170, 60), "sky": (60, 90, 210)}


def make_backbone(path: Path, *, float16_head: bool = False, gemm: bool = False) -> Path:
    """Write a stand-in general model (8 "ImageNet" classes) to ``path``."""
    rng = np.random.default_rng(7)
    conv_w = rng.normal(0, 0.5, (FEATURES, 3, 3, 3)).astype(np.float32)
    fc_w = rng.normal(0, 0.1, (FEATURES, 8)).astype(np.float32)
    inits = [
        numpy_helper.from_array(np.array(1 / 128, np.float32), "scale"),
        numpy_helper.from_array(np.array(-127 / 128, np.float32), "offset"),
        numpy_helper.from_array(conv_w, "conv_w"),
        numpy_helper.from_array(np.zeros(FEATURES, np.float32), "conv_b"),
        numpy_helper.from_array(np.array([2, 3], np.int64), "squeeze_axes"),
        numpy_helper.from_array(np.zeros(8, np.float32), "fc_b"),
    ]
    nodes = [
        helper.make_node("Mul", ["image", "scale"], ["scaled0"]),
        helper.make_node("Add", ["scaled0", "offset"], ["scaled"]),
        helper.make_node("Transpose", ["scaled"], ["nchw"], perm=[0, 3, 1, 2]),
        helper.make_node("Conv", ["nchw", "conv_w", "conv_b"], ["conv"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["conv"], ["relu"]),
        helper.make_node("GlobalAveragePool", ["relu"], ["gap"]),
        helper.make_node("Squeeze", ["gap", "squeeze_axes"], ["pooled"]),
    ]
    if float16_head:
        inits.append(numpy_helper.from_array(fc_w.astype(np.float16), "fc_w__fp16"))
        nodes.append(helper.make_node("Cast", ["fc_w__fp16"], ["fc_w"], to=TensorProto.FLOAT))
    else:
        inits.append(numpy_helper.from_array(fc_w, "fc_w"))
    if gemm:
        nodes.append(helper.make_node("Gemm", ["pooled", "fc_w", "fc_b"], ["logits"]))
    else:
        nodes += [
            helper.make_node("MatMul", ["pooled", "fc_w"], ["mm"]),
            helper.make_node("Add", ["mm", "fc_b"], ["logits"]),
        ]
    nodes.append(helper.make_node("Softmax", ["logits"], ["probabilities"], axis=-1))
    graph = helper.make_graph(
        nodes,
        "stand_in_general_model",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", *SIZE, 3])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 8])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    meta = {"labels": [f"thing {i}" for i in range(8)], "display_name": "Stand-in general model"}
    for key, value in encode_metadata(meta).items():
        model.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def photo(colour: tuple[int, int, int], seed: int, size: int = 48) -> Image.Image:
    """A noisy photo around ``colour`` with a lighter square (so mirror images differ)."""
    rng = np.random.default_rng(seed)
    pixels = np.clip(np.array(colour) + rng.normal(0, 25, (size, size, 3)), 0, 255)
    corner = rng.integers(0, size // 2)
    pixels[corner : corner + size // 4, : size // 4] += 40
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def make_class_folders(root: Path, per_class: int = 4, classes: dict | None = None) -> Path:
    """``root/<class>/<class>_<i>.png`` for each class; returns ``root``."""
    for k, (name, colour) in enumerate((classes or CLASS_COLOURS).items()):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            photo(colour, seed=100 * k + i).save(folder / f"{name}_{i}.png")
    return root
