"""``python -m export reduce``: write a size-reduced copy of an ONNX file and measure it.

Needs no TensorFlow: works on any contract-following file.
"""

from __future__ import annotations

from pathlib import Path

import onnx

from desktop_app.engine.contract import read_model_info
from export.evaluate import VariantReport, compare_variant, evaluate
from export.metadata import mark_reduced, read_metadata, set_metadata, write_onnx_atomically
from export.parity import generated_images
from export.reduce import CALIBRATION_IMAGES, ReduceError, reduce_model

__all__ = ["ReduceError", "reduce_file"]


def reduce_file(
    source: str | Path,
    out: str | Path,
    method: str,
    *,
    data: str | Path | None = None,
    limit: int | None = 2000,
    update_metrics: bool = False,
) -> VariantReport:
    """Write ``method``'s reduced copy of ``source`` to ``out`` and compare the two.

    With ``data`` int8 calibrates on training images and the comparison uses
    ``limit`` test images (None: all); ``update_metrics`` then also stores the
    variant's own test metrics in its metadata so that an evaluation of the
    shipped file reproduces them. Without data, generated images stand in and
    accuracy is not measured.
    """
    source, out = Path(source), Path(out)
    info = read_model_info(source)
    proto = onnx.load(str(source))
    labels = list(info.labels)
    targets = None
    if data is not None:
        from export.data import load_split

        images, targets = load_split(data, labels, split="test", limit=limit, size=info.input_size)
        calibration = load_split(data, labels, split="train", limit=CALIBRATION_IMAGES, size=info.input_size)[0]
    else:
        images = generated_images(256, info.input_size, seed=0)
        calibration = generated_images(CALIBRATION_IMAGES, info.input_size, seed=1)
    reduced = reduce_model(proto, method, calibration if method == "int8" else None)

    measured = None
    if update_metrics:
        if targets is None:
            raise ReduceError("--update-metrics needs --data (labelled test images)")
        write_onnx_atomically(reduced, out)
        measured = evaluate(out, images, targets)
    set_metadata(reduced, mark_reduced(read_metadata(proto), method, measured))
    write_onnx_atomically(reduced, out)
    return compare_variant(source, out, method, images, targets)
