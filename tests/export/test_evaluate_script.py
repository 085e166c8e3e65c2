"""scripts/evaluate_onnx.py: accuracy through the engine, compared with the file's metadata."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from export.evaluate import evaluate
from export.metadata import CIFAR10_LABELS
from tests.model_factory import colour_metadata, make_classifier

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "evaluate_onnx.py"


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("evaluate_onnx", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def test_split(cifar_data):
    from export.data import load_split

    return load_split(cifar_data, CIFAR10_LABELS)


def colour_model(path: Path, accuracy: float | None) -> Path:
    """A 10-class mean-colour model claiming ``accuracy``."""
    metadata = colour_metadata(CIFAR10_LABELS)
    metadata["metrics"] = {"num_test_images": 10000} | ({} if accuracy is None else {"test_accuracy": accuracy})
    return make_classifier(path, CIFAR10_LABELS, metadata=metadata)


def test_full_split_reproduces_recorded_accuracy(script, cifar_data, test_split, tmp_path, capsys) -> None:
    probe = colour_model(tmp_path / "probe.onnx", None)
    measured = evaluate(probe, *test_split)
    assert measured["num_test_images"] == 10000
    good = colour_model(tmp_path / "good.onnx", measured["test_accuracy"] + 0.0004)
    bad = colour_model(tmp_path / "bad.onnx", measured["test_accuracy"] + 0.005)
    assert script.main([str(good), "--data", str(cifar_data)]) == 0
    assert "reproduces it" in capsys.readouterr().out
    assert script.main([str(bad), "--data", str(cifar_data)]) == 1
    out = capsys.readouterr().out
    assert "-0.50 points" in out and "DIFFERS by more than 0.1 points" in out


def test_limit_evaluates_a_balanced_subset(script, cifar_data, tmp_path, capsys) -> None:
    path = colour_model(tmp_path / "m.onnx", 0.5)
    assert script.main([str(path), "--data", str(cifar_data), "--limit", "200"]) == 0
    out = capsys.readouterr().out
    assert "on 200 test images" in out and "not compared (a subset" in out


def test_refused_file_fails(script, cifar_data, tmp_path, capsys) -> None:
    bad = make_classifier(tmp_path / "bad.onnx", omit_labels=True)
    assert script.main([str(bad), "--data", str(cifar_data)]) == 1
    assert "labels" in capsys.readouterr().err
