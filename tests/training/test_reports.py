"""report.json round trip, its ONNX metadata view, and the PNG charts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from desktop_app.engine.contract import METADATA_KEYS, read_model_info
from tests.training.fake_reports import LABELS, make_report
from training.reports import (
    ReportError,
    load_report,
    plot_confusion,
    plot_history,
    report_to_metadata,
    to_jsonable,
    write_report,
)


def assert_png(path: Path) -> tuple[int, int]:
    assert path.is_file() and path.stat().st_size > 1000
    with Image.open(path) as image:
        image.load()
        assert image.format == "PNG"
        return image.size


def test_report_round_trip_converts_numpy_types(tmp_path: Path) -> None:
    report = make_report()
    path = write_report(tmp_path / "runs" / "deep_cnn", report)

    assert path == tmp_path / "runs" / "deep_cnn" / "report.json"
    loaded = load_report(path.parent)
    assert loaded == to_jsonable(report)
    assert loaded["params"] == 12345 and loaded["history"]["accuracy"] == [0.4, 0.6, 0.7]
    assert loaded["training"]["recipe"]["augment"] == ["crop", "flip"]
    assert loaded["metrics"]["val_accuracy"] == pytest.approx(0.7)
    assert load_report(path) == loaded
    assert [p.name for p in path.parent.iterdir()] == ["report.json"]  # no temp file left behind


def test_non_finite_numbers_become_null(tmp_path: Path) -> None:
    report = make_report()
    report["metrics"]["val_loss"] = float("nan")
    report["history"]["loss"] = np.array([1.0, np.inf])
    loaded = load_report(write_report(tmp_path, report))
    assert loaded["metrics"]["val_loss"] is None and loaded["history"]["loss"] == [1.0, None]


def test_a_failed_write_keeps_the_previous_report(tmp_path: Path) -> None:
    write_report(tmp_path, make_report())
    before = (tmp_path / "report.json").read_bytes()
    with pytest.raises(TypeError, match="object"):
        write_report(tmp_path, {**make_report(), "extra": object()})
    assert (tmp_path / "report.json").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such report"),
        (b"{not json", "not valid JSON \\(line 1"),
        (b"[1, 2]", "expected a JSON object, found list"),
        (b'{"model": "x"}', "missing labels, metrics"),
        (b"\xff\xfe\x00garbage", "not a text file"),
    ],
)
def test_load_report_explains_what_is_wrong(tmp_path: Path, content: bytes | None, message: str) -> None:
    if content is not None:
        (tmp_path / "report.json").write_bytes(content)
    with pytest.raises(ReportError, match=message) as error:
        load_report(tmp_path)
    assert str(tmp_path) in str(error.value)


def test_metadata_has_the_contract_keys_and_folds_in_calibration() -> None:
    report = make_report()
    metadata = report_to_metadata(report)

    assert list(metadata) == list(METADATA_KEYS)
    assert metadata["labels"] == list(LABELS)
    assert metadata["params"] == 12345 and type(metadata["params"]) is int
    assert metadata["metrics"]["test_accuracy"] == report["metrics"]["test_accuracy"]
    assert metadata["training"]["calibration"]["temperature"] == 1.5
    assert metadata["training"]["epochs"] == 3
    assert "history" not in metadata["training"]
    json.dumps(metadata, allow_nan=False)  # plain JSON values only


def test_metadata_passes_the_contract_in_a_real_onnx_file(tmp_path: Path) -> None:
    from tests.model_factory import make_classifier

    report = make_report()
    info = read_model_info(make_classifier(tmp_path / "m.onnx", LABELS, metadata=report_to_metadata(report)))
    assert info.labels == LABELS
    assert info.display_name == "Deep Cnn" and info.params == 12345
    assert info.test_accuracy == pytest.approx(report["metrics"]["test_accuracy"])
    assert info.training["calibration"]["ece_after"] == pytest.approx(0.02)


def test_metadata_without_labels_is_refused() -> None:
    with pytest.raises(ReportError, match="no labels"):
        report_to_metadata({**make_report(), "labels": []})


def test_history_plot_has_two_panels(tmp_path: Path) -> None:
    width, height = assert_png(plot_history(make_report()["history"], tmp_path / "curves.png", title="deep_cnn"))
    assert width > 1.8 * height
    # Keras' other accuracy name and a training-only history also work
    assert_png(plot_history({"categorical_accuracy": [0.1, 0.2], "loss": [2.0, 1.5]}, tmp_path / "b.png"))


def test_history_without_curves_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no accuracy or loss"):
        plot_history({"lr": [0.1, 0.01]}, tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize("normalize", [True, False])
def test_confusion_plot(tmp_path: Path, normalize: bool) -> None:
    matrix = np.array([[5, 1, 0], [0, 0, 0], [2, 0, 7]])  # an empty row must not divide by zero
    assert_png(plot_confusion(matrix, LABELS, tmp_path / "cm.png", normalize=normalize))


def test_confusion_plot_refuses_a_wrong_shape(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"shape \(2, 2\), expected \(3, 3\)"):
        plot_confusion([[1, 0], [0, 1]], LABELS, tmp_path / "cm.png")
