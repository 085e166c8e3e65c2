"""Size-reduced copies: float16-stored weights and int8 QDQ, both still valid and close."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest

from desktop_app.engine.contract import read_model_info
from export.cli import main
from export.evaluate import evaluate, predict
from export.metadata import read_metadata
from export.parity import generated_images
from export.pipeline import export_model
from export.reduce import ReduceError, float16_weights
from export.reduce_file import reduce_file
from tests.export.conftest import lsuv_init, make_report


@pytest.fixture(scope="module")
def float32_file(tmp_path_factory):
    """A tiny deep CNN with varied outputs, exported with a report."""
    import keras

    from training.models import build_model

    keras.utils.set_random_seed(0)
    folder = tmp_path_factory.mktemp("reduce")
    model = build_model("deep_cnn", tiny=True)
    lsuv_init(model, generated_images(32, seed=5))
    model.save(str(folder / "deep_cnn.keras"))
    (folder / "report.json").write_text(json.dumps(make_report("deep_cnn")))
    out = folder / "deep_cnn.onnx"
    export_model(folder / "deep_cnn.keras", out, report=folder / "report.json", log=lambda _: None)
    return out


def initializer_types(path) -> set[int]:
    return {init.data_type for init in onnx.load(str(path)).graph.initializer}


def test_float16_halves_the_file_and_keeps_the_answers(float32_file, tmp_path) -> None:
    out = tmp_path / "fp16.onnx"
    report = reduce_file(float32_file, out, "float16")
    read_model_info(out)  # passes the contract check
    assert onnx.TensorProto.FLOAT16 in initializer_types(out)
    assert "Cast" in {n.op_type for n in onnx.load(str(out)).graph.node}
    assert report.size_bytes < 0.6 * report.base_size_bytes
    images = generated_images(256, seed=3)
    base, half = predict(float32_file, images), predict(out, images)
    assert np.abs(base - half).max() < 1e-2  # weights rounded to ~3 significant digits
    assert report.top1_agreement >= 0.99 and report.num_images == 256
    assert report.accuracy is None  # no labelled data given


def test_int8_is_quantized_smaller_and_mostly_agrees(float32_file, tmp_path) -> None:
    out = tmp_path / "int8.onnx"
    report = reduce_file(float32_file, out, "int8")
    info = read_model_info(out)
    ops = {n.op_type for n in onnx.load(str(out)).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops and "Softmax" in ops
    assert onnx.TensorProto.INT8 in initializer_types(out)
    assert report.size_bytes < 0.5 * report.base_size_bytes
    # An untrained net has small logit margins, so int8 noise flips some; a broken graph would be near chance.
    assert report.top1_agreement >= 0.8, str(report)
    probs = predict(out, generated_images(16))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert info.labels == read_model_info(float32_file).labels


@pytest.mark.parametrize("method", ["float16", "int8"])
def test_reduced_files_keep_the_metadata(float32_file, tmp_path, method: str) -> None:
    out = tmp_path / f"{method}.onnx"
    reduce_file(float32_file, out, method)
    original, reduced = read_metadata(float32_file), read_metadata(out)
    assert reduced["training"].pop("export") == {"reduction": method}
    assert reduced == original


def test_cli_reduce_prints_the_comparison(float32_file, tmp_path, capsys) -> None:
    out = tmp_path / "cli16.onnx"
    assert main(["reduce", str(float32_file), "--method", "float16", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert f"wrote {out}" in text and "float16: size" in text and "CPU latency" in text
    assert main(["check", str(out)]) == 0


def test_cli_reduce_of_a_broken_file_fails(tmp_path, capsys) -> None:
    from tests.model_factory import make_classifier

    bad = make_classifier(tmp_path / "bad.onnx", omit_labels=True)
    assert main(["reduce", str(bad), "--method", "int8", "--out", str(tmp_path / "o.onnx")]) == 1
    assert "labels" in capsys.readouterr().err and not (tmp_path / "o.onnx").exists()


def test_float16_needs_big_weights(colour_model) -> None:
    with pytest.raises(ReduceError, match="no float32 weights"):
        float16_weights(onnx.load(str(colour_model)))


def test_measured_on_real_data_and_metrics_updated(float32_file, cifar_data, tmp_path) -> None:
    out = tmp_path / "int8-real.onnx"
    report = reduce_file(float32_file, out, "int8", data=cifar_data, limit=100, update_metrics=True)
    assert report.num_images == 100 and report.accuracy is not None and report.base_accuracy is not None
    assert report.keep() == (report.accuracy_change_points >= -0.3)
    metrics = read_model_info(out).metrics
    from export.data import load_split

    images, targets = load_split(cifar_data, read_model_info(out).labels, limit=100)
    assert metrics["num_test_images"] == 100
    assert metrics["test_accuracy"] == pytest.approx(evaluate(out, images, targets)["test_accuracy"])
    assert read_metadata(out)["training"]["export"] == {"reduction": "int8", "float32_test_accuracy": 0.9}
