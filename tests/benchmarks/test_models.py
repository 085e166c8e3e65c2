"""Which architecture and variant a model file is, for the benchmark tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.models import classify_file


@pytest.mark.parametrize(
    "name, reduction, expected",
    [
        ("deep_cnn.onnx", None, ("deep_cnn", "float32")),
        ("deep_cnn.int8.onnx", None, ("deep_cnn", "int8")),
        ("vgg_fp16.onnx", None, ("vgg", "float16")),
        ("compact_vgg.onnx", None, ("compact_vgg", "float32")),  # not plain "vgg"
        ("deep_cnn.onnx", "int8", ("deep_cnn", "int8")),  # a shipped int8 file keeps the plain name
        ("vgg.onnx", "float16", ("vgg", "float16")),
        ("vgg.onnx", "none", ("vgg", "float32")),
        ("my_model.onnx", None, (None, "float32")),
    ],
)
def test_the_variant_comes_from_the_metadata_else_the_name(name, reduction, expected):
    assert classify_file(Path(name), reduction) == expected
