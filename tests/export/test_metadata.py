"""Contract metadata: from a report into the file and back, unchanged."""

from __future__ import annotations

import json

import onnx
import pytest

from desktop_app.engine.contract import FORMAT_VERSION, read_model_info
from export.cli import main
from export.metadata import (
    CIFAR10_LABELS,
    default_metadata,
    metadata_from_report,
    read_metadata,
    set_metadata,
    write_onnx_atomically,
)
from tests.export.conftest import make_report
from tests.model_factory import make_classifier


@pytest.fixture
def blank_model(tmp_path) -> onnx.ModelProto:
    """A valid ten-class graph; its metadata is replaced by each test."""
    return onnx.load(str(make_classifier(tmp_path / "src.onnx", labels=CIFAR10_LABELS)))


def test_metadata_round_trips_through_a_file(blank_model, tmp_path) -> None:
    metadata = metadata_from_report(make_report(temperature=1.7))
    out = write_onnx_atomically(set_metadata(blank_model, metadata), tmp_path / "m.onnx")
    back = read_metadata(out)
    assert back == json.loads(json.dumps(metadata))
    assert set(back) == {
        "labels",
        "display_name",
        "description",
        "architecture",
        "dataset",
        "params",
        "metrics",
        "training",
        "format_version",
    }
    assert back["training"]["calibration"]["temperature"] == 1.7
    assert "history" not in back["training"]


def test_the_app_reads_the_same_values(blank_model, tmp_path) -> None:
    report = make_report()
    out = write_onnx_atomically(set_metadata(blank_model, metadata_from_report(report)), tmp_path / "m.onnx")
    info = read_model_info(out)
    assert info.labels == tuple(report["labels"])
    assert info.display_name == report["display_name"]
    assert info.params == report["params"]
    assert info.test_accuracy == report["metrics"]["test_accuracy"]
    assert info.metrics["per_class"] == report["metrics"]["per_class"]
    assert info.training["recipe"] == report["training"]["recipe"]
    assert info.format_version == FORMAT_VERSION


def test_set_metadata_replaces_old_values(blank_model) -> None:
    set_metadata(blank_model, {"labels": ["a"], "display_name": "first"})
    set_metadata(blank_model, {"labels": list(CIFAR10_LABELS)})
    props = {p.key: p.value for p in blank_model.metadata_props}
    assert "display_name" not in props and json.loads(props["labels"]) == list(CIFAR10_LABELS)


def test_default_metadata_describes_a_registered_model() -> None:
    metadata = default_metadata("deep_cnn", 10, 99)
    assert metadata["labels"] == list(CIFAR10_LABELS) and metadata["display_name"] == "Deep CNN"
    assert metadata["params"] == 99
    with pytest.raises(ValueError, match="--report"):
        default_metadata("deep_cnn", 3, 99)


def test_a_file_the_contract_refuses_is_not_written(blank_model, tmp_path) -> None:
    from desktop_app.engine.contract import ModelContractError

    set_metadata(blank_model, {"labels": ["only", "three", "labels"]})
    with pytest.raises(ModelContractError, match="3 labels but the output has 10 classes"):
        write_onnx_atomically(blank_model, tmp_path / "bad.onnx")
    assert list(tmp_path.glob("bad*")) == [] and list(tmp_path.glob(".bad*")) == []


def test_info_prints_labels_metrics_per_class_and_recipe(blank_model, tmp_path, capsys) -> None:
    out = write_onnx_atomically(
        set_metadata(blank_model, metadata_from_report(make_report(temperature=1.5))), tmp_path / "m.onnx"
    )
    assert main(["info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "test accuracy        90.00%" in text
    assert "   3  cat" in text
    assert "truck" in text and "precision  recall" in text and "0.910" in text
    assert "recipe.optimizer" in text and "calibration.temperature  1.5" in text


def test_info_on_a_broken_file_fails(tmp_path, capsys) -> None:
    path = make_classifier(tmp_path / "bad.onnx", omit_labels=True)
    assert main(["info", str(path)]) == 1
    assert "labels" in capsys.readouterr().err
