"""ONNX graph work for teaching: find the pooled features, cut the backbone, add a new head.

The general model (EfficientNet-Lite0, ImageNet) ends in
``features -> MatMul (+ Add) or Gemm -> Softmax -> probabilities``. The
feature tensor is found by that structure, never by name, so any contract
model ending in a linear layer and a softmax (float32, or float16-stored
weights with ``Cast`` nodes) can serve as a backbone. Teaching keeps the
backbone's nodes and weights as they are and replaces the last linear layer;
no TensorFlow is involved. Needs the ``onnx`` package (a runtime dependency
of teaching, see docs/packaging.md).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

#: Output name of every contract model the app writes.
OUTPUT_NAME = "probabilities"
_LINEAR_OPS = ("MatMul", "Gemm")


class BackboneError(ValueError):
    """The model cannot serve as a backbone; the message says why."""


def _producers(graph: onnx.GraphProto) -> dict[str, onnx.NodeProto]:
    return {out: node for node in graph.node for out in node.output}


def find_feature_tensor(model: onnx.ModelProto) -> tuple[str, int]:
    """Name and width of the tensor feeding the final linear layer before the softmax.

    Walks back from the single graph output through ``Softmax`` and an
    optional bias ``Add`` to a ``MatMul`` or ``Gemm``; its data input is the
    feature tensor (for EfficientNet-Lite0 the 1,280 pooled values).
    """
    graph = model.graph
    if len(graph.output) != 1:
        raise BackboneError(f"expected one output, found {len(graph.output)}")
    producers = _producers(graph)
    initializers = {init.name: init for init in graph.initializer}
    node = producers.get(graph.output[0].name)
    while node is not None and node.op_type in ("Identity", "Cast"):
        node = producers.get(node.input[0])
    if node is None or node.op_type != "Softmax":
        raise BackboneError("the model does not end in a Softmax")
    node = producers.get(node.input[0])
    if node is not None and node.op_type == "Add":
        candidates = [producers.get(name) for name in node.input]
        node = next((n for n in candidates if n is not None and n.op_type in _LINEAR_OPS), None)
    if node is None or node.op_type not in _LINEAR_OPS:
        raise BackboneError("no MatMul or Gemm feeds the final Softmax")
    if node.op_type == "Gemm" and any(a.name == "transA" and a.i for a in node.attribute):
        raise BackboneError("a transposed Gemm input is not supported")
    feature = node.input[0]
    if feature in initializers:
        raise BackboneError("the final linear layer's data input is a constant")
    return feature, _weight_rows(node, graph, initializers, producers)


def _weight_rows(node: onnx.NodeProto, graph: onnx.GraphProto, initializers: dict, producers: dict) -> int:
    """The feature width, read from the linear layer's weight (through a float16 Cast if any)."""
    name = node.input[1]
    while name not in initializers and name in producers and producers[name].op_type in ("Cast", "Identity"):
        name = producers[name].input[0]
    if name not in initializers:
        raise BackboneError("the final linear layer's weight is not stored in the file")
    dims = list(initializers[name].dims)
    transposed = node.op_type == "Gemm" and any(a.name == "transB" and a.i for a in node.attribute)
    return int(dims[1] if transposed else dims[0])


def backbone_graph(model: onnx.ModelProto) -> tuple[onnx.ModelProto, str, int]:
    """The part of ``model`` that computes the feature tensor: (model, feature name, width)."""
    feature, width = find_feature_tensor(model)
    graph = model.graph
    producers = _producers(graph)
    needed, stack = set(), [feature]
    while stack:  # every node the feature tensor depends on
        node = producers.get(stack.pop())
        if node is None or id(node) in needed:
            continue
        needed.add(id(node))
        stack.extend(node.input)
        for attr in node.attribute:  # subgraphs (If/Loop) may read outer tensors
            if attr.type == onnx.AttributeProto.GRAPH:
                stack.extend(n for sub in attr.g.node for n in sub.input)
    nodes = [node for node in graph.node if id(node) in needed]
    used = {name for node in nodes for name in node.input}
    initializers = [init for init in graph.initializer if init.name in used]
    output = helper.make_tensor_value_info(feature, TensorProto.FLOAT, ["N", width])
    cut = helper.make_graph(nodes, f"{graph.name}_features", [graph.input[0]], [output], initializer=initializers)
    extracted = helper.make_model(cut, opset_imports=list(model.opset_import))
    extracted.ir_version = model.ir_version
    return extracted, feature, width


def load_model(path: str | Path) -> onnx.ModelProto:
    """Load an ONNX file with its weights; a clear :class:`BackboneError` when it is not one."""
    try:
        return onnx.load(str(path))
    except Exception as exc:  # protobuf DecodeError, OSError ...
        raise BackboneError(f"{Path(path).name} is not a readable ONNX file ({exc})") from exc


def feature_model_bytes(path: str | Path) -> tuple[bytes, str, int]:
    """Serialized feature extractor over the model file at ``path``: (bytes, feature name, width)."""
    extracted, feature, width = backbone_graph(load_model(path))
    return extracted.SerializeToString(), feature, width


def with_head(
    backbone: onnx.ModelProto, weights: np.ndarray, bias: np.ndarray, *, name: str = "taught_model"
) -> onnx.ModelProto:
    """``backbone`` (output: features) followed by ``softmax(features @ weights + bias)``.

    The output is ``probabilities`` float32 ``[N, K]``; the backbone's own
    nodes and weights are copied unchanged.
    """
    feature = backbone.graph.output[0].name
    classes = int(weights.shape[1])
    head_w = numpy_helper.from_array(np.ascontiguousarray(weights, np.float32), "taught_head/weights")
    head_b = numpy_helper.from_array(np.ascontiguousarray(bias, np.float32), "taught_head/bias")
    nodes = [
        helper.make_node("MatMul", [feature, head_w.name], ["taught_head/matmul"], name="taught_head/MatMul"),
        helper.make_node("Add", ["taught_head/matmul", head_b.name], ["taught_head/logits"], name="taught_head/Add"),
        helper.make_node("Softmax", ["taught_head/logits"], [OUTPUT_NAME], axis=-1, name="taught_head/Softmax"),
    ]
    output = helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["N", classes])
    graph = helper.make_graph(
        list(backbone.graph.node) + nodes,
        name,
        list(backbone.graph.input),
        [output],
        initializer=list(backbone.graph.initializer) + [head_w, head_b],
    )
    model = helper.make_model(graph, opset_imports=list(backbone.opset_import), producer_name="image-classifier teach")
    model.ir_version = backbone.ir_version
    return model
