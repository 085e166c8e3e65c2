"""The ONNX model contract shared by the export side and the app.

A model file is usable when it has one float32 NHWC RGB input with a static
height and width, one float32 ``[N, C]`` probability output, and a JSON
``labels`` list of length ``C`` in its ``metadata_props``. The rest of the
metadata (display name, metrics, training recipe ...) is optional but shown
when present. This module is pure Python over plain values so that the
export package (``python -m export check``) and the app's model loader give
the same verdict with the same words; only :func:`read_model_info` touches
onnxruntime.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FORMAT_VERSION = "1"

#: Every metadata key the contract defines, in the order tools show them.
METADATA_KEYS: tuple[str, ...] = (
    "labels",
    "display_name",
    "description",
    "architecture",
    "dataset",
    "params",
    "metrics",
    "training",
    "format_version",
)
#: Keys whose value is JSON text (the others are plain strings).
JSON_KEYS = frozenset({"labels", "metrics", "training"})

FLOAT_TENSOR = "tensor(float)"
#: Largest input height x width a model may declare: 4096 x 4096 (16.8 MP). No image classifier
#: needs more (ImageNet models take 224-600 px), and the input alone costs H x W x 3 x 4 bytes per
#: image (201 MB at this bound, 12.9 GB for a batch of 64); a file declaring [N, 100000, 100000, 3]
#: would take 120 GB per image and get the app killed.
MAX_INPUT_PIXELS = 4096 * 4096
#: Metrics that are fractions: they must be finite numbers in [0, 1] (99 would show as "9900.00%").
FRACTION_METRICS = ("test_accuracy", "val_accuracy", "train_accuracy", "top5_accuracy")


def fraction(value: Any) -> float | None:
    """``value`` as a float when it is a finite number in [0, 1], else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) and 0.0 <= value <= 1.0 else None


class ModelContractError(ValueError):
    """A model file cannot be used; the message lists every problem found."""

    def __init__(self, path: str | Path, problems: Sequence[str]) -> None:
        self.path = Path(path)
        self.problems = list(problems)
        super().__init__(f"{self.path.name}: " + "; ".join(self.problems))


@dataclass(frozen=True)
class TensorSpec:
    """What the contract needs to know of a graph input or output."""

    name: str
    type: str
    shape: tuple[int | str | None, ...]


@dataclass(frozen=True)
class ModelInfo:
    """Everything the app shows about a valid model, read from the file itself."""

    path: Path
    labels: tuple[str, ...]
    input_name: str
    input_size: tuple[int, int]  # (height, width)
    output_name: str
    display_name: str
    description: str = ""
    architecture: str = ""
    dataset: str = ""
    params: int | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    format_version: str = FORMAT_VERSION

    @property
    def name(self) -> str:
        """Short identifier used on the command line (the file name without suffix)."""
        return self.path.stem

    @property
    def num_classes(self) -> int:
        return len(self.labels)

    @property
    def test_accuracy(self) -> float | None:
        """Test accuracy in [0, 1] from the metrics, or None when not recorded."""
        return fraction(self.metrics.get("test_accuracy"))

    @property
    def stored_as(self) -> str:
        """ "float32", or the size reduction ``export reduce`` recorded ("float16", "int8")."""
        export = self.training.get("export")
        reduction = export.get("reduction") if isinstance(export, dict) else None
        return reduction if isinstance(reduction, str) and reduction else "float32"

    @property
    def float32_test_accuracy(self) -> float | None:
        """The float32 model's test accuracy: recorded in a reduced copy, else this file's own."""
        if self.stored_as == "float32":
            return self.test_accuracy
        export = self.training.get("export") or {}
        return fraction(export.get("float32_test_accuracy")) if isinstance(export, dict) else None


def encode_metadata(metadata: Mapping[str, Any]) -> dict[str, str]:
    """Turn metadata values into the strings ONNX ``metadata_props`` hold.

    JSON keys are dumped as JSON; everything else becomes ``str(value)``.
    """
    encoded: dict[str, str] = {}
    for key, value in metadata.items():
        if value is None:
            continue
        if key in JSON_KEYS or not isinstance(value, (str, int, float)):
            encoded[key] = json.dumps(value, ensure_ascii=False, sort_keys=key != "labels")
        else:
            encoded[key] = str(value)
    encoded.setdefault("format_version", FORMAT_VERSION)
    return encoded


def decode_metadata(props: Mapping[str, str]) -> tuple[dict[str, Any], list[str]]:
    """Parse ``metadata_props`` strings; return the values and the problems found."""
    values: dict[str, Any] = dict(props)
    problems: list[str] = []
    for key in JSON_KEYS & props.keys():
        try:
            values[key] = json.loads(props[key])
        except json.JSONDecodeError as exc:
            problems.append(f"metadata '{key}' is not valid JSON ({exc.msg})")
            values.pop(key)
    if "params" in values:
        try:
            values["params"] = int(values["params"])
        except ValueError:
            problems.append(f"metadata 'params' is not a whole number: {values['params']!r}")
            values.pop("params")
    return values, problems


def _dims_text(shape: Sequence[int | str | None]) -> str:
    return "[" + ", ".join("?" if d is None else str(d) for d in shape) + "]"


def _check_input(inputs: Sequence[TensorSpec]) -> list[str]:
    if len(inputs) != 1:
        return [f"expected exactly one input, found {len(inputs)}"]
    spec = inputs[0]
    problems = []
    if spec.type != FLOAT_TENSOR:
        problems.append(f"input '{spec.name}' must be float32, not {spec.type}")
    if len(spec.shape) != 4:
        problems.append(
            f"input '{spec.name}' must have rank 4 [N, H, W, 3] (NHWC), "
            f"found rank {len(spec.shape)} {_dims_text(spec.shape)}"
        )
        return problems
    _, height, width, channels = spec.shape
    if channels != 3:
        problems.append(f"input '{spec.name}' must have 3 channels last (NHWC RGB), found {_dims_text(spec.shape)}")
    if not (isinstance(height, int) and isinstance(width, int) and height > 0 and width > 0):
        problems.append(f"input '{spec.name}' must declare a fixed height and width, found {_dims_text(spec.shape)}")
    elif height * width > MAX_INPUT_PIXELS:
        problems.append(
            f"input '{spec.name}' is {height} x {width} pixels; at most 4096 x 4096 ({MAX_INPUT_PIXELS / 1e6:.1f} MP) "
            f"is accepted (one image would need {height * width * 12 / 1e9:.1f} GB as float32)"
        )
    return problems


def _check_metrics(metadata: Mapping[str, Any]) -> list[str]:
    """Accuracy-like metrics outside [0, 1] or not finite would be shown as "9900.00%" and picked as default."""
    problems = []
    metrics = metadata.get("metrics")
    training = metadata.get("training")
    export = training.get("export") if isinstance(training, dict) else None
    found = [
        (f"metrics '{key}'", metrics[key]) for key in FRACTION_METRICS if isinstance(metrics, dict) and key in metrics
    ]
    if isinstance(export, dict) and "float32_test_accuracy" in export:
        found.append(("training.export 'float32_test_accuracy'", export["float32_test_accuracy"]))
    for name, value in found:
        if value is not None and fraction(value) is None:
            problems.append(f"{name} must be a number from 0 to 1, found {value!r}")
    return problems


def _check_output(outputs: Sequence[TensorSpec]) -> list[str]:
    if len(outputs) != 1:
        return [f"expected exactly one output, found {len(outputs)}"]
    spec = outputs[0]
    problems = []
    if spec.type != FLOAT_TENSOR:
        problems.append(f"output '{spec.name}' must be float32, not {spec.type}")
    if len(spec.shape) != 2 or not isinstance(spec.shape[1], int):
        problems.append(f"output '{spec.name}' must have shape [N, C] with a fixed C, found {_dims_text(spec.shape)}")
    return problems


def _check_labels(labels: Any, outputs: Sequence[TensorSpec]) -> list[str]:
    if labels is None:
        return ["metadata has no 'labels' (a JSON list of class names in output order)"]
    if not isinstance(labels, list) or not all(isinstance(x, str) and x.strip() for x in labels):
        return ["metadata 'labels' must be a JSON list of non-empty strings"]
    problems = []
    if len(set(labels)) != len(labels):
        problems.append("metadata 'labels' contains duplicates")
    if len(outputs) == 1 and len(outputs[0].shape) == 2 and isinstance(outputs[0].shape[1], int):
        width = outputs[0].shape[1]
        if width != len(labels):
            problems.append(f"{len(labels)} labels but the output has {width} classes")
    return problems


def check_contract(inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec], props: Mapping[str, str]) -> list[str]:
    """Return every way a model breaks the contract, in plain words (empty when valid)."""
    metadata, problems = decode_metadata(props)
    problems = _check_input(inputs) + _check_output(outputs) + problems
    problems += _check_labels(metadata.get("labels"), outputs)
    version = str(metadata.get("format_version", FORMAT_VERSION))
    if version.split(".")[0] != FORMAT_VERSION:
        problems.append(f"format_version {version} is not supported (this app reads version {FORMAT_VERSION})")
    for key in ("metrics", "training"):
        if key in metadata and not isinstance(metadata[key], dict):
            problems.append(f"metadata '{key}' must be a JSON object")
    return problems + _check_metrics(metadata)


def build_model_info(
    path: str | Path, inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec], props: Mapping[str, str]
) -> ModelInfo:
    """Validate and describe a model; raise :class:`ModelContractError` listing the problems."""
    problems = check_contract(inputs, outputs, props)
    if problems:
        raise ModelContractError(path, problems)
    metadata, _ = decode_metadata(props)
    path = Path(path)
    _, height, width, _ = inputs[0].shape
    assert isinstance(height, int) and isinstance(width, int)  # check_contract made sure
    return ModelInfo(
        path=path,
        labels=tuple(metadata["labels"]),
        input_name=inputs[0].name,
        input_size=(height, width),
        output_name=outputs[0].name,
        display_name=metadata.get("display_name") or path.stem,
        description=metadata.get("description", ""),
        architecture=metadata.get("architecture", ""),
        dataset=metadata.get("dataset", ""),
        params=metadata.get("params"),
        metrics=metadata.get("metrics", {}),
        training=metadata.get("training", {}),
        format_version=str(metadata.get("format_version", FORMAT_VERSION)),
    )


def specs_from_session(session: Any) -> tuple[list[TensorSpec], list[TensorSpec], dict[str, str]]:
    """Read inputs, outputs and metadata from an ``onnxruntime.InferenceSession``."""

    def spec(arg: Any) -> TensorSpec:
        return TensorSpec(arg.name, arg.type, tuple(d if isinstance(d, int) else None for d in arg.shape))

    props = dict(session.get_modelmeta().custom_metadata_map)
    return [spec(a) for a in session.get_inputs()], [spec(a) for a in session.get_outputs()], props


def read_model_info(path: str | Path) -> ModelInfo:
    """Open a model file on the CPU and check it against the contract.

    Raises :class:`ModelContractError` for a file that is missing, is not a
    loadable ONNX model, or breaks the contract.
    """
    return build_model_info(path, *read_model_specs(path))


def read_model_specs(path: str | Path) -> tuple[list[TensorSpec], list[TensorSpec], dict[str, str]]:
    """Inputs, outputs and metadata of a model file, read by onnxruntime on the CPU (not yet checked).

    Raises :class:`ModelContractError` for a missing or unloadable file.
    """
    import onnxruntime as ort

    path = Path(path)
    if not path.is_file():
        raise ModelContractError(path, ["file not found"])
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    try:
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises several unrelated types for bad files
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelContractError(path, [f"not a loadable ONNX model ({reason})"]) from exc
    return specs_from_session(session)
