"""What a model file says about itself beyond the contract's required fields."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_app.engine.contract import read_model_info
from tests.model_factory import colour_metadata, make_classifier


@pytest.mark.parametrize(
    "export, stored_as, float32_accuracy",
    [
        (None, "float32", 0.9),  # no record: a plain export, its own accuracy is the float32 one
        ({"reduction": "int8", "float32_test_accuracy": 0.9123}, "int8", 0.9123),
        ({"reduction": "float16"}, "float16", None),  # reduced without --update-metrics
        ({"reduction": ""}, "float32", 0.9),
    ],
)
def test_how_a_file_is_stored_and_its_float32_accuracy(tmp_path: Path, export, stored_as, float32_accuracy) -> None:
    training = {"epochs": 1} if export is None else {"export": export}
    info = read_model_info(make_classifier(tmp_path / "m.onnx", metadata=colour_metadata(training=training)))
    assert (info.stored_as, info.float32_test_accuracy) == (stored_as, float32_accuracy)
