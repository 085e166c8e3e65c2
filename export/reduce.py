"""Smaller ONNX files: float16-stored weights, or int8 static quantization (QDQ).

* ``float16``: every large float32 initializer is stored as float16 and a
  ``Cast`` back to float32 is put in front of its users, so the file halves
  while every computation stays float32 (accuracy practically unchanged).
* ``int8``: onnxruntime's ``quantize_static`` in QDQ format, weights int8 per
  output channel, activations uint8 calibrated (MinMax) on a few hundred
  training images. Only Conv/MatMul/Gemm are quantized: the softmax and the
  probabilities stay float32. ``reduce_range`` keeps weights to 7 bits so
  CPUs without VNNI cannot saturate (the file runs the same everywhere).

Both keep the contract metadata of the source file.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process

METHODS = ("float16", "int8")
#: Initializers with fewer elements stay float32 (biases, BatchNorm vectors: no gain, only Cast nodes).
FLOAT16_MIN_ELEMENTS = 1024
CALIBRATION_IMAGES = 300
QUANTIZED_OPS = ["Conv", "MatMul", "Gemm"]


class ReduceError(RuntimeError):
    """A size reduction cannot be done; the message says why."""


def float16_weights(model: onnx.ModelProto, *, min_elements: int = FLOAT16_MIN_ELEMENTS) -> onnx.ModelProto:
    """A copy of ``model`` whose big float32 initializers are stored as float16."""
    reduced = onnx.ModelProto()
    reduced.CopyFrom(model)
    graph = reduced.graph
    casts = []
    kept = []
    for init in graph.initializer:
        if init.data_type != TensorProto.FLOAT or int(np.prod(init.dims)) < min_elements:
            kept.append(init)
            continue
        values = numpy_helper.to_array(init)
        if np.abs(values).max(initial=0.0) > np.finfo(np.float16).max:
            kept.append(init)  # would overflow to inf
            continue
        stored = f"{init.name}__fp16"
        kept.append(numpy_helper.from_array(values.astype(np.float16), stored))
        casts.append(helper.make_node("Cast", [stored], [init.name], to=TensorProto.FLOAT, name=f"{init.name}__cast"))
    if not casts:
        raise ReduceError("no float32 weights large enough to store as float16")
    del graph.initializer[:]
    graph.initializer.extend(kept)
    nodes = list(graph.node)
    del graph.node[:]
    graph.node.extend(casts + nodes)
    onnx.checker.check_model(reduced)
    return reduced


class ImageReader(CalibrationDataReader):
    """Feeds calibration images to ``quantize_static``, a small batch at a time."""

    def __init__(self, input_name: str, images: np.ndarray, batch_size: int = 16) -> None:
        batches = [images[i : i + batch_size] for i in range(0, len(images), batch_size)]
        self._batches = iter([{input_name: np.ascontiguousarray(b, np.float32)} for b in batches])

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._batches, None)


def int8_quantize(model: onnx.ModelProto, calibration_images: np.ndarray) -> onnx.ModelProto:
    """A static int8 QDQ copy of ``model`` calibrated on ``calibration_images`` (NHWC 0..255)."""
    if len(calibration_images) == 0:
        raise ReduceError("int8 quantization needs calibration images")
    with tempfile.TemporaryDirectory(prefix="cifar-int8-") as tmp:
        source, prepared, quantized = (Path(tmp) / n for n in ("model.onnx", "prepared.onnx", "int8.onnx"))
        onnx.save(model, str(source))
        # ONNX shape inference suffices (only the batch dimension is dynamic); no sympy needed.
        quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)
        quantize_static(
            str(prepared),
            str(quantized),
            ImageReader(model.graph.input[0].name, calibration_images),
            quant_format=QuantFormat.QDQ,
            op_types_to_quantize=QUANTIZED_OPS,
            per_channel=True,
            reduce_range=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
        )
        reduced = onnx.load(str(quantized))
    copy_metadata(model, reduced)
    return reduced


def copy_metadata(source: onnx.ModelProto, target: onnx.ModelProto) -> None:
    """Give ``target`` exactly ``source``'s ``metadata_props`` (tools may drop them)."""
    del target.metadata_props[:]
    target.metadata_props.extend(source.metadata_props)


def reduce_model(model: onnx.ModelProto, method: str, calibration_images: np.ndarray | None = None) -> onnx.ModelProto:
    """Apply ``method`` ("float16" or "int8") to ``model``."""
    if method == "float16":
        return float16_weights(model)
    if method == "int8":
        if calibration_images is None:
            raise ReduceError("int8 quantization needs calibration images (--data, or generated ones)")
        return int8_quantize(model, calibration_images)
    raise ReduceError(f"unknown reduction '{method}'; choose one of {', '.join(METHODS)}")


def initializer_bytes(model: onnx.ModelProto) -> int:
    """Total bytes of the stored weights (what reduction shrinks)."""
    return sum(len(init.raw_data) or numpy_helper.to_array(init).nbytes for init in model.graph.initializer)


def op_types(model: onnx.ModelProto) -> Iterable[str]:
    return {node.op_type for node in model.graph.node}
