"""ONNX graph work for teaching: find the pooled features, cut the backbone, add a new head.

The general model (EfficientNet-Lite0, ImageNet) ends in
``features -> MatMul (+ Add) or Gemm -> Softmax -> probabilities``. The
feature tensor is found by that structure, never by name, so any contract
model ending in a linear layer and a softmax (float32, or float16-stored
weights behind ``Cast`` nodes) can serve as a backbone. Teaching keeps the
backbone's nodes and weights byte for byte and replaces the last linear
layer; no TensorFlow and no ``onnx`` package are involved
(:mod:`desktop_app.engine.onnx_wire` reads and writes the file).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from desktop_app.engine.onnx_wire import (
    GRAPH_OUTPUT,
    Model,
    Node,
    WireError,
    make_node,
    make_tensor,
    make_value_info,
)

#: Output name of every contract model the app writes.
OUTPUT_NAME = "probabilities"
_LINEAR_OPS = ("MatMul", "Gemm")
_PASS_THROUGH = ("Identity", "Cast")


class BackboneError(ValueError):
    """The model cannot serve as a backbone; the message says why."""


@dataclass
class Backbone:
    """The part of a model that computes its pooled features."""

    model: Model  # the source model (its other fields are kept)
    nodes: list[bytes]
    initializers: list[bytes]
    feature: str
    width: int

    def graph_bytes(self, extra_nodes: list[bytes], extra_inits: list[bytes], output: bytes) -> bytes:
        return self.model.graph.rebuilt(self.nodes + extra_nodes, self.initializers + extra_inits, [output])

    def feature_model(self) -> bytes:
        """A model whose one output is the feature tensor ``[N, width]``."""
        output = make_value_info(self.feature, ["N", self.width])
        return self.model.with_graph(self.graph_bytes([], [], output)).with_metadata({}).serialize()


def _producers(nodes: list[Node]) -> dict[str, Node]:
    return {out: node for node in nodes for out in node.outputs}


def find_feature_tensor(model: Model) -> tuple[str, int]:
    """Name and width of the tensor feeding the final linear layer before the softmax.

    Walks back from the single graph output through ``Softmax`` and an
    optional bias ``Add`` to a ``MatMul`` or ``Gemm``; its data input is the
    feature tensor (for EfficientNet-Lite0 the 1,280 pooled values).
    """
    graph = model.graph
    outputs = graph.output_names
    if len(outputs) != 1:
        raise BackboneError(f"expected one output, found {len(outputs)}")
    producers = _producers(graph.nodes)
    node = producers.get(outputs[0])
    while node is not None and node.op_type in _PASS_THROUGH:
        node = producers.get(node.inputs[0])
    if node is None or node.op_type != "Softmax":
        raise BackboneError("the model does not end in a Softmax")
    node = producers.get(node.inputs[0])
    if node is not None and node.op_type == "Add":
        candidates = [producers.get(name) for name in node.inputs]
        node = next((n for n in candidates if n is not None and n.op_type in _LINEAR_OPS), None)
    if node is None or node.op_type not in _LINEAR_OPS:
        raise BackboneError("no MatMul or Gemm feeds the final Softmax")
    if node.ints.get("transA"):
        raise BackboneError("a transposed Gemm input is not supported")
    feature = node.inputs[0]
    if feature in graph.initializers:
        raise BackboneError("the final linear layer's data input is a constant")
    weight = node.inputs[1]
    while weight not in graph.initializers and weight in producers and producers[weight].op_type in _PASS_THROUGH:
        weight = producers[weight].inputs[0]
    if weight not in graph.initializers:
        raise BackboneError("the final linear layer's weight is not stored in the file")
    dims = graph.initializers[weight][0]
    if len(dims) != 2:
        raise BackboneError(f"the final linear layer's weight has shape {dims}, not 2-D")
    return feature, int(dims[1] if node.ints.get("transB") else dims[0])


def backbone_of(model: Model) -> Backbone:
    """Every node (and weight) the feature tensor depends on, in the original order."""
    feature, width = find_feature_tensor(model)
    graph = model.graph
    producers = _producers(graph.nodes)
    needed: set[int] = set()
    stack = [feature]
    while stack:
        node = producers.get(stack.pop())
        if node is None or id(node) in needed:
            continue
        needed.add(id(node))
        stack.extend(node.inputs + node.subgraph_inputs)
    nodes = [node for node in graph.nodes if id(node) in needed]
    used = {name for node in nodes for name in node.inputs + node.subgraph_inputs}
    inits = [raw for name, (_, raw) in graph.initializers.items() if name in used]
    return Backbone(model, [n.raw for n in nodes], inits, feature, width)


def load_model(path: str | Path) -> Model:
    """Read an ONNX file; a clear :class:`BackboneError` when it is not one."""
    try:
        return Model.parse(Path(path).read_bytes())
    except (OSError, WireError) as exc:
        raise BackboneError(f"{Path(path).name} is not a readable ONNX file ({exc})") from exc


def with_head(backbone: Backbone, weights: np.ndarray, bias: np.ndarray, metadata: dict[str, str]) -> bytes:
    """``backbone`` followed by ``softmax(features @ weights + bias)`` as ``probabilities`` ``[N, K]``."""
    feature = backbone.feature
    nodes = [
        make_node("MatMul", [feature, "taught_head/weights"], ["taught_head/matmul"], "taught_head/MatMul"),
        make_node("Add", ["taught_head/matmul", "taught_head/bias"], ["taught_head/logits"], "taught_head/Add"),
        make_node("Softmax", ["taught_head/logits"], [OUTPUT_NAME], "taught_head/Softmax", axis=-1),
    ]
    inits = [make_tensor("taught_head/weights", weights), make_tensor("taught_head/bias", bias)]
    output = make_value_info(OUTPUT_NAME, ["N", int(weights.shape[1])])
    graph = backbone.graph_bytes(nodes, inits, output)
    model = backbone.model.with_graph(graph).with_metadata(metadata).with_producer("image-classifier teach")
    return model.serialize()


def with_extra_output(model: Model, tensor: str) -> bytes:
    """``model`` with ``tensor`` as a second output (onnxruntime infers its type)."""
    msg = model.graph.msg
    msg.add(GRAPH_OUTPUT, make_value_info(tensor))
    return model.with_graph(msg.serialize()).serialize()
