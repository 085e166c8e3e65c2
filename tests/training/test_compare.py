"""compare_runs on fake run folders, with the study's numbers beside ours."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.training.fake_reports import LABELS, make_report
from training.compare import compare_runs, format_duration, registry_study_numbers
from training.reports import ReportError, write_report

STUDY = {  # as in STUDY.md
    "deep_cnn": {"accuracy": 0.8498, "loss": 0.5225, "params": 5_772_970},
    "vgg": {"accuracy": 0.7750, "loss": 1.0725, "params": 28_340_298},
}


def fake_study(model: str) -> dict[str, Any]:
    return STUDY.get(model, {"accuracy": None, "loss": None, "params": None})


@pytest.fixture
def two_runs(tmp_path: Path) -> list[Path]:
    deep = make_report("deep_cnn", accuracy_bias=3.0, seed=1)
    vgg = make_report("vgg", accuracy_bias=1.0, seed=2)
    del vgg["calibration"]
    return [write_report(tmp_path / "runs" / r["model"], r).parent for r in (deep, vgg)]


def test_compare_writes_markdown_json_and_charts(tmp_path: Path, two_runs: list[Path]) -> None:
    out = tmp_path / "comparison"
    result = compare_runs(two_runs, out, study=fake_study)

    assert sorted(p.name for p in out.iterdir()) == [
        "accuracy.png",
        "comparison.json",
        "comparison.md",
        "per_class_f1.png",
    ]
    markdown = (out / "comparison.md").read_text()
    for text in (
        "Deep Cnn (`deep_cnn`)",
        "Vgg (`vgg`)",
        "84.98%",
        "77.50%",
        "0.5225",
        "1.0725",
        "5,772,970",
        "28,340,298",
        "12,345",
        "12 min 34 s",
        "8.00% → 2.00%",
        *LABELS,
    ):
        assert text in markdown, text

    saved = json.loads((out / "comparison.json").read_text())
    assert [m["model"] for m in saved["models"]] == ["deep_cnn", "vgg"]
    assert saved["labels"] == list(LABELS)
    deep = saved["models"][0]
    assert deep["study"]["accuracy"] == 0.8498
    assert deep["accuracy_gain_points"] == pytest.approx(100 * (deep["test_accuracy"] - 0.8498))
    assert deep["per_class_f1"]["bird"] == pytest.approx(
        make_report("deep_cnn", 3.0, 1)["metrics"]["per_class"]["bird"]["f1"]
    )
    assert saved["models"][1]["ece_before"] is None
    assert result["files"]["markdown"] == str(out / "comparison.md")

    for name in ("accuracy.png", "per_class_f1.png"):
        with Image.open(out / name) as image:
            image.load()
            assert image.format == "PNG" and image.size[0] > 300


def test_model_without_study_numbers_and_duplicate_runs(tmp_path: Path) -> None:
    runs = [write_report(tmp_path / d, make_report("efficientnet_lite0", seed=i)) for i, d in enumerate(("a", "b"))]
    result = compare_runs(runs, tmp_path / "out", study=fake_study)  # report.json paths work too
    names = [m["display_name"] for m in result["models"]]
    assert names == ["Efficientnet Lite0 (a)", "Efficientnet Lite0 (b)"]
    assert result["models"][0]["accuracy_gain_points"] is None
    assert "| — | — |" in (tmp_path / "out" / "comparison.md").read_text()


def test_compare_refuses_nothing_and_missing_reports(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one"):
        compare_runs([], tmp_path / "out", study=fake_study)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ReportError, match="no such report"):
        compare_runs([tmp_path / "empty"], tmp_path / "out", study=fake_study)


@pytest.mark.parametrize(
    ("seconds", "text"), [(None, "—"), (42.4, "42 s"), (754.2, "12 min 34 s"), (3725, "1 h 2 min")]
)
def test_format_duration(seconds: float | None, text: str) -> None:
    assert format_duration(seconds) == text


def test_study_numbers_come_from_the_model_registry() -> None:
    deep = registry_study_numbers("deep_cnn")
    assert deep == pytest.approx(STUDY["deep_cnn"])
    assert registry_study_numbers("vgg") == pytest.approx(STUDY["vgg"])
    assert registry_study_numbers("resnet50")["accuracy"] == pytest.approx(0.9473)
    assert registry_study_numbers("compact_vgg")["accuracy"] is None
    assert registry_study_numbers("no_such_model") == {"accuracy": None, "loss": None, "params": None}
