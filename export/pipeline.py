"""The whole export: load, bake the temperature, convert, describe, verify, write.

Nothing is written unless the ONNX graph matches Keras (parity) and the file
passes the app's own contract check; the file appears atomically.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from export.convert import DEFAULT_OPSET, ExportError, keras_to_onnx
from export.metadata import (
    default_metadata,
    mark_reduced,
    metadata_from_report,
    set_metadata,
    write_onnx_atomically,
)
from export.parity import MIN_IMAGES, ParityResult, check_parity, generated_images, onnx_predictor
from export.reduce import CALIBRATION_IMAGES, reduce_model
from export.source import load_source
from export.temperature import with_temperature


class ParityError(ExportError):
    """ONNX and Keras disagree; carries the measured numbers."""

    def __init__(self, result: ParityResult) -> None:
        self.result = result
        super().__init__(str(result))


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote and the numbers that let it through."""

    path: Path
    parity: ParityResult
    temperature: float | None
    reduction: str
    reduced_agreement: ParityResult | None
    size_bytes: int


def _sample_images(data: str | Path | None, labels: list[str], split: str, n: int, seed: int) -> np.ndarray:
    if data is None:
        return generated_images(n, seed=seed)
    from export.data import load_split

    images, _ = load_split(data, labels, split=split, limit=n)
    return images


def export_model(
    source: str | Path,
    out: str | Path,
    *,
    model_name: str | None = None,
    report: str | Path | None = None,
    data: str | Path | None = None,
    reduce: str = "none",
    tiny: bool | None = None,
    opset: int = DEFAULT_OPSET,
    parity_images: int = MIN_IMAGES,
    log: Callable[[str], Any] = print,
) -> ExportResult:
    """Export ``source`` (run folder, ``.weights.h5`` or ``.keras``) to ``out``.

    Raises :class:`ParityError` (nothing written) when the ONNX graph differs
    from Keras by more than the parity limits.
    """
    loaded = load_source(source, model_name=model_name, report=report, tiny=tiny)
    keras_model = loaded.model
    temperature = None
    if loaded.report is not None:
        metadata = metadata_from_report(loaded.report)
        temperature = (loaded.report.get("calibration") or {}).get("temperature")
    else:
        num_classes = int(keras_model.outputs[0].shape[-1])
        metadata = default_metadata(loaded.model_name or keras_model.name, num_classes, keras_model.count_params())
    labels = list(metadata["labels"])
    if temperature not in (None, 1.0):
        log(f"baking temperature T={temperature:.4f} into the graph")
    graph_model = with_temperature(keras_model, temperature)

    proto = keras_to_onnx(graph_model, opset=opset)
    set_metadata(proto, metadata)

    images = _sample_images(data, labels, "test", parity_images, seed=0)
    onnx_predict = onnx_predictor(proto.SerializeToString())
    parity = check_parity(lambda batch: graph_model(batch, training=False), onnx_predict, images)
    log(str(parity) + (" (real images)" if data is not None else " (generated images)"))
    if not parity.ok:
        raise ParityError(parity)

    agreement = None
    if reduce != "none":
        calibration = None
        if reduce == "int8":
            calibration = _sample_images(data, labels, "train", CALIBRATION_IMAGES, seed=1)
            if data is None:
                log("int8: calibrating on generated images; pass --data for real training images")
        proto = set_metadata(reduce_model(proto, reduce, calibration), mark_reduced(metadata, reduce, None))
        agreement = check_parity(onnx_predict, onnx_predictor(proto.SerializeToString()), images)
        log(
            f"{reduce} against float32: top-1 agreement {100 * agreement.top1_agreement:.2f}%, "
            f"max |dp| {agreement.max_abs_diff:.3g}"
        )

    path = write_onnx_atomically(proto, out)
    size = path.stat().st_size
    log(f"wrote {path} ({size / 1024 / 1024:.2f} MiB, opset {opset}, {len(labels)} classes)")
    return ExportResult(path, parity, temperature, reduce, agreement, size)
