"""The export command end to end: sources, reports, temperature, parity failures, real data."""

from __future__ import annotations

import json

import numpy as np
import onnxruntime as ort
import pytest

from export import pipeline
from export.cli import main
from export.metadata import metadata_from_report, read_metadata
from export.parity import generated_images
from tests.export.conftest import make_report, small_cnn, write_run


def run_onnx(path, images: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(["probabilities"], {"image": images})[0]


@pytest.fixture(scope="module")
def model():
    return small_cnn()


@pytest.fixture(scope="module")
def keras_file(model, tmp_path_factory):
    path = tmp_path_factory.mktemp("keras") / "small.keras"
    model.save(str(path))
    return path


def test_keras_file_with_report_exports_with_its_metadata(keras_file, tmp_path, capsys) -> None:
    report = make_report("small_cnn")
    (tmp_path / "report.json").write_text(json.dumps(report))
    out = tmp_path / "models" / "small.onnx"
    assert main([str(keras_file), "--out", str(out), "--report", str(tmp_path / "report.json")]) == 0
    printed = capsys.readouterr().out
    assert "parity passed on 256 images" in printed and f"wrote {out}" in printed
    assert read_metadata(out) == json.loads(json.dumps(metadata_from_report(report)))
    assert [p.name for p in out.parent.iterdir()] == ["small.onnx"]  # no temporary left behind


def test_calibrated_report_bakes_the_temperature(model, keras_file, tmp_path) -> None:
    images = generated_images(64)
    (tmp_path / "r.json").write_text(json.dumps(make_report("small_cnn", temperature=2.0)))
    out = tmp_path / "calibrated.onnx"
    pipeline.export_model(keras_file, out, report=tmp_path / "r.json", log=lambda _: None)
    p = np.asarray(model(images), dtype=np.float64)
    expected = np.exp(np.log(p) / 2.0)
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(run_onnx(out, images), expected, atol=1e-5)
    assert read_metadata(out)["training"]["calibration"]["temperature"] == 2.0


def test_temperature_one_leaves_outputs_unchanged(model, keras_file, tmp_path) -> None:
    images = generated_images(64)
    (tmp_path / "r.json").write_text(json.dumps(make_report("small_cnn", temperature=1.0)))
    out = tmp_path / "t1.onnx"
    pipeline.export_model(keras_file, out, report=tmp_path / "r.json", log=lambda _: None)
    np.testing.assert_allclose(run_onnx(out, images), np.asarray(model(images)), atol=1e-6)


def test_registered_run_folder_exports(tmp_path, capsys) -> None:
    from training.models import build_model

    run = write_run(
        tmp_path / "runs" / "compact_vgg", build_model("compact_vgg", tiny=True), make_report("compact_vgg", tiny=True)
    )
    out = tmp_path / "compact_vgg.onnx"
    assert main([str(run), "--out", str(out)]) == 0  # architecture and size from report.json
    assert main(["check", str(out)]) == 0
    assert "OK: compact_vgg.onnx - Test compact_vgg" in capsys.readouterr().out


def test_weights_without_architecture_fail_clearly(tmp_path, model, capsys) -> None:
    weights = tmp_path / "w.weights.h5"
    model.save_weights(str(weights))
    assert main([str(weights), "--out", str(tmp_path / "x.onnx")]) == 1
    assert "--model NAME" in capsys.readouterr().err
    assert not (tmp_path / "x.onnx").exists()


def test_weights_that_do_not_fit_fail_clearly(tmp_path, model, capsys) -> None:
    weights = tmp_path / "w.weights.h5"
    model.save_weights(str(weights))
    assert main([str(weights), "--model", "deep_cnn", "--out", str(tmp_path / "x.onnx")]) == 1
    assert "do not fit the 'deep_cnn' architecture" in capsys.readouterr().err


def test_parity_failure_writes_nothing_and_prints_the_numbers(keras_file, tmp_path, monkeypatch, capsys) -> None:
    real = pipeline.onnx_predictor

    def off_by_a_bit(model_bytes):
        predict = real(model_bytes)
        return lambda batch: predict(batch) + np.float32(3e-4)

    monkeypatch.setattr(pipeline, "onnx_predictor", off_by_a_bit)
    out = tmp_path / "never.onnx"
    assert main([str(keras_file), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "parity FAILED on 256 images: max |dp| = 0.0003" in err
    assert list(tmp_path.iterdir()) == []


def test_opset_below_17_is_refused(keras_file, tmp_path, capsys) -> None:
    assert main([str(keras_file), "--out", str(tmp_path / "x.onnx"), "--opset", "13"]) == 1
    assert "opset 13 is too old" in capsys.readouterr().err


def test_parity_on_real_images(keras_file, cifar_data, tmp_path) -> None:
    from export.data import load_split

    images, targets = load_split(cifar_data, metadata_from_report(make_report())["labels"], limit=256)
    assert images.shape == (256, 32, 32, 3) and images.dtype == np.float32 and images.max() > 200
    assert set(targets.tolist()) == set(range(10))
    logs: list[str] = []
    out = tmp_path / "real.onnx"
    result = pipeline.export_model(keras_file, out, data=cifar_data, log=logs.append)
    assert result.parity.ok and result.parity.num_images == 256
    assert logs[0].endswith("(real images)")


@pytest.mark.parametrize("method", ["float16", "int8"])
def test_export_can_write_a_reduced_file(keras_file, tmp_path, capsys, method: str) -> None:
    (tmp_path / "r.json").write_text(json.dumps(make_report("small_cnn")))
    out = tmp_path / f"{method}.onnx"
    assert main([str(keras_file), "--out", str(out), "--report", str(tmp_path / "r.json"), "--reduce", method]) == 0
    printed = capsys.readouterr().out
    assert f"{method} against float32: top-1 agreement" in printed
    assert read_metadata(out)["training"]["export"] == {"reduction": method}
    assert main(["check", str(out)]) == 0
