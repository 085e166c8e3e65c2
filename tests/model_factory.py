"""Small real ONNX classifiers for tests, built with ``onnx.helper``.

The graph is ``softmax((mean colour of the image / 255) @ W * scale + b)``:
with the default colour labels a red image is classified "red", a green one
"green" and so on, so tests know the right answer without any training.
Keyword arguments break the contract on purpose for the refusal tests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from desktop_app.engine.contract import encode_metadata

COLOUR_LABELS = ("red", "green", "blue")


def colour_metadata(labels: Sequence[str] = COLOUR_LABELS, **extra: Any) -> dict[str, Any]:
    """Contract metadata for a test model, with plausible metrics."""
    n = len(labels)
    metadata: dict[str, Any] = {
        "labels": list(labels),
        "display_name": "Colour test model",
        "description": "Mean-colour classifier built for tests",
        "architecture": "mean colour + linear + softmax",
        "dataset": "generated",
        "params": 3 * n + n,
        "metrics": {
            "test_accuracy": 0.9,
            "test_loss": 0.3,
            "num_test_images": 30,
            "per_class": {lab: {"precision": 0.9, "recall": 0.9, "f1": 0.9, "support": 10} for lab in labels},
            "confusion_matrix": (np.eye(n, dtype=int) * 9 + 1 - np.eye(n, dtype=int)).tolist(),
        },
        "training": {"recipe": "none (hand-set weights)", "epochs": 0},
    }
    metadata.update(extra)
    return metadata


def make_classifier(
    path: str | Path,
    labels: Sequence[str] = COLOUR_LABELS,
    *,
    size: tuple[int, int] = (32, 32),
    weights: np.ndarray | None = None,
    scale: float = 12.0,
    metadata: Mapping[str, Any] | None = None,
    omit_labels: bool = False,
    input_rank: int = 4,
    output_width: int | None = None,
    input_type: int = TensorProto.FLOAT,
) -> Path:
    """Write a colour classifier to ``path`` and return the path.

    ``weights`` is a ``3 x C`` matrix (default: identity for three colours,
    a fixed random matrix otherwise). ``output_width`` lets the graph produce a
    different number of classes than ``labels`` has.
    """
    path = Path(path)
    n_out = output_width or len(labels)
    if weights is None:
        weights = np.eye(3, n_out) if n_out == 3 else np.random.default_rng(0).normal(size=(3, n_out))
    w = (np.asarray(weights, dtype=np.float32) * scale / 255.0).astype(np.float32)
    bias = np.full((n_out,), -scale / 3, dtype=np.float32) * (1 if n_out == 3 else 0)
    h, wd = size
    if input_rank == 4:
        in_shape: list[Any] = ["N", h, wd, 3]
        axes = [1, 2]
    else:
        in_shape = ["N", h * wd * 3] if input_rank == 2 else ["N", h, wd]
        axes = list(range(1, input_rank))
    nodes = [
        helper.make_node("ReduceMean", ["image"], ["mean"], axes=axes, keepdims=0),
    ]
    if input_rank != 4:  # keep the graph valid: broadcast to three features
        nodes[0] = helper.make_node("ReduceMean", ["image"], ["m1"], axes=axes, keepdims=1)
        nodes.append(helper.make_node("Expand", ["m1", "three"], ["mean"]))
    nodes += [
        helper.make_node("MatMul", ["mean", "W"], ["logits0"]),
        helper.make_node("Add", ["logits0", "b"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probabilities"], axis=-1),
    ]
    initializers = [numpy_helper.from_array(w, "W"), numpy_helper.from_array(bias, "b")]
    if input_rank != 4:
        initializers.append(numpy_helper.from_array(np.array([1, 3], dtype=np.int64), "three"))
    graph = helper.make_graph(
        nodes,
        "colour_classifier",
        [helper.make_tensor_value_info("image", input_type, in_shape)],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", n_out])],
        initializers,
    )
    if input_type != TensorProto.FLOAT:
        graph.node.insert(0, helper.make_node("Cast", ["image"], ["image_f"], to=TensorProto.FLOAT))
        graph.node[1].input[0] = "image_f"
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    meta = dict(metadata) if metadata is not None else colour_metadata(labels)
    if omit_labels:
        meta.pop("labels", None)
    for key, value in encode_metadata(meta).items():
        model.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def solid_image(colour: str, size: tuple[int, int] = (32, 32)) -> np.ndarray:
    """An ``HxWx3`` float32 image of one primary colour, values 0..255."""
    index = COLOUR_LABELS.index(colour)
    image = np.zeros((*size, 3), dtype=np.float32)
    image[..., index] = 255.0
    return image


def make_endless(path: str | Path, *, trips: int = 10**12, size: tuple[int, int] = (8, 8)) -> Path:
    """A contract-valid model whose graph runs a Loop of ``trips`` iterations (10^12: it never finishes).

    The loop's start value is the image's sum, so no optimiser can fold it
    away; its result is multiplied by 0 and added to the mean-colour logits.
    """
    path = Path(path)
    body = helper.make_graph(
        [
            helper.make_node("Identity", ["cond"], ["cond_out"]),
            helper.make_node("Constant", [], ["one"], value=numpy_helper.from_array(np.array(1.0, np.float32))),
            helper.make_node("Add", ["v", "one"], ["v_out"]),
        ],
        "body",
        [
            helper.make_tensor_value_info("i", TensorProto.INT64, []),
            helper.make_tensor_value_info("cond", TensorProto.BOOL, []),
            helper.make_tensor_value_info("v", TensorProto.FLOAT, []),
        ],
        [
            helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
            helper.make_tensor_value_info("v_out", TensorProto.FLOAT, []),
        ],
    )
    nodes = [
        helper.make_node("ReduceMean", ["image"], ["mean"], axes=[1, 2], keepdims=0),
        helper.make_node("ReduceSum", ["image"], ["v0"], keepdims=0),
        helper.make_node("Loop", ["M", "cond0", "v0"], ["v_end"], body=body),
        helper.make_node("Mul", ["v_end", "zero"], ["nothing"]),
        helper.make_node("Add", ["mean", "nothing"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probabilities"], axis=-1),
    ]
    graph = helper.make_graph(
        nodes,
        "endless",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", *size, 3])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 3])],
        [
            numpy_helper.from_array(np.array(trips, np.int64), "M"),
            numpy_helper.from_array(np.array(True), "cond0"),
            numpy_helper.from_array(np.array(0.0, np.float32), "zero"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    for key, value in encode_metadata(colour_metadata()).items():
        model.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path
