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


def test_a_huge_declared_input_is_refused_with_the_reason(tmp_path: Path) -> None:
    """[N, 100000, 100000, 3] took 24 GB on classify before the kernel killed it (issue 15)."""
    from desktop_app.engine.contract import MAX_INPUT_PIXELS, ModelContractError
    from desktop_app.engine.registry import ModelRegistry

    make_classifier(tmp_path / "huge.onnx", size=(100_000, 100_000))
    make_classifier(tmp_path / "edge.onnx", size=(4096, 4096))
    with pytest.raises(ModelContractError, match="100000 x 100000 pixels; at most 4096 x 4096"):
        read_model_info(tmp_path / "huge.onnx")
    registry = ModelRegistry([tmp_path])
    assert [m.name for m in registry.models] == ["edge"] and MAX_INPUT_PIXELS == 4096 * 4096
    assert [(p.name, "at most 4096 x 4096" in r) for p, r in registry.refused] == [("huge.onnx", True)]


@pytest.mark.parametrize("value", [99, 1.5, -0.1, float("inf"), float("nan"), "0.9", True])
def test_accuracy_outside_0_1_is_refused_and_never_the_default(tmp_path: Path, value) -> None:
    from desktop_app.engine.registry import ModelRegistry

    bad = colour_metadata(display_name="bad")
    bad["metrics"]["test_accuracy"] = value
    make_classifier(tmp_path / "bad.onnx", metadata=bad)
    make_classifier(tmp_path / "fine.onnx", metadata=colour_metadata(display_name="fine"))
    registry = ModelRegistry([tmp_path])
    assert registry.most_accurate().name == "fine"
    assert [p.name for p, _ in registry.refused] == ["bad.onnx"]
    assert "metrics 'test_accuracy' must be a number from 0 to 1" in registry.refused[0][1]


def test_reduced_copy_accuracy_out_of_range_is_refused(tmp_path: Path) -> None:
    from desktop_app.engine.contract import ModelContractError

    meta = colour_metadata(training={"export": {"reduction": "int8", "float32_test_accuracy": 89.5}})
    with pytest.raises(ModelContractError, match="float32_test_accuracy' must be a number from 0 to 1"):
        read_model_info(make_classifier(tmp_path / "m.onnx", metadata=meta))
