"""Keras model -> ONNX graph with tf2onnx, named and shaped as the contract says.

The graph gets one input ``image`` (float32 ``[N, H, W, 3]``, raw 0..255) and
one output ``probabilities`` (float32 ``[N, C]``), both with the batch
dimension named ``N``. The model is traced with ``training=False``, so
dropout and any augmentation layer are identities and leave no node behind;
:func:`assert_inference_only` double-checks that on the finished graph.
"""

from __future__ import annotations

from export.backend import require_tensorflow_backend

require_tensorflow_backend()

import keras  # noqa: E402
import onnx  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf2onnx  # noqa: E402

INPUT_NAME = "image"
OUTPUT_NAME = "probabilities"
BATCH_DIM = "N"
DEFAULT_OPSET = 17
MIN_OPSET = 17

#: Ops that only a training-mode graph would contain (dropout masks, random augmentation).
TRAINING_ONLY_OPS = frozenset(
    {"RandomUniform", "RandomUniformLike", "RandomNormal", "RandomNormalLike", "Bernoulli", "Multinomial", "Dropout"}
)


class ExportError(RuntimeError):
    """The export cannot produce a valid file; the message says why."""


def keras_to_onnx(model: keras.Model, *, opset: int = DEFAULT_OPSET) -> onnx.ModelProto:
    """Convert ``model`` (one NHWC image input, one probability output) to ONNX."""
    if opset < MIN_OPSET:
        raise ExportError(f"opset {opset} is too old: the contract needs opset {MIN_OPSET} or newer")
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ExportError(
            f"expected a model with one input and one output, got {len(model.inputs)} and {len(model.outputs)}"
        )
    shape = tuple(model.inputs[0].shape[1:])
    if len(shape) != 3 or shape[-1] != 3 or None in shape:
        raise ExportError(f"the model input must be (H, W, 3) with a fixed size, found {shape}")

    @tf.function
    def serve(image: tf.Tensor) -> dict[str, tf.Tensor]:
        # A dict return gives the ONNX output its name.
        return {OUTPUT_NAME: model(image, training=False)}

    signature = (tf.TensorSpec((None, *shape), tf.float32, name=INPUT_NAME),)
    proto, _ = tf2onnx.convert.from_function(serve, input_signature=signature, opset=opset)
    _name_batch_dim(proto)
    proto.producer_name = "cifar-export (tf2onnx)"
    assert_inference_only(proto)
    return proto


def _name_batch_dim(proto: onnx.ModelProto) -> None:
    """Give the dynamic batch dimension one readable name on input and output."""
    for value in list(proto.graph.input) + list(proto.graph.output):
        dims = value.type.tensor_type.shape.dim
        if dims and not dims[0].HasField("dim_value"):
            dims[0].dim_param = BATCH_DIM


def assert_inference_only(proto: onnx.ModelProto) -> None:
    """Raise :class:`ExportError` if a training-only op (random, dropout) is in the graph."""
    found = sorted({node.op_type for node in _all_nodes(proto.graph)} & TRAINING_ONLY_OPS)
    if found:
        raise ExportError(f"the graph contains training-only operations: {', '.join(found)}")
    names = ([i.name for i in proto.graph.input], [o.name for o in proto.graph.output])
    if names != ([INPUT_NAME], [OUTPUT_NAME]):
        raise ExportError(f"unexpected graph inputs/outputs {names}")


def _all_nodes(graph: onnx.GraphProto):
    """Every node, including those inside If/Loop subgraphs."""
    for node in graph.node:
        yield node
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                yield from _all_nodes(attr.g)
            for sub in attr.graphs:
                yield from _all_nodes(sub)
