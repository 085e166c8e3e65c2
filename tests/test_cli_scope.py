"""The scope check end to end on the command line, with the shipped models and photos."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from PIL import Image

from desktop_app import cli
from desktop_app.engine.registry import shipped_models_dir

SAMPLES = Path(__file__).resolve().parents[1] / "assets" / "samples"
NOT_CIFAR = SAMPLES / "_not-cifar"
CIFAR_CLASS_SAMPLES = [SAMPLES / "bird", SAMPLES / "cat", SAMPLES / "dog"]

pytestmark = pytest.mark.skipif(
    not (shipped_models_dir() / "efficientnet_lite0_imagenet.onnx").is_file(),
    reason="the general model is not in assets/models",
)


def test_default_settings_call_the_not_cifar_samples_out_of_scope(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["classify", "--device", "cpu", str(NOT_CIFAR)]) == 0
    out, err = capsys.readouterr()
    lines = {Path(line.split("  ")[1].strip()).name: line for line in out.splitlines()}
    assert set(lines) == {"hot_dog.jpg", "dragonfly.jpg", "sunflower.jpg"}
    assert all(line.startswith("none of the ten") for line in lines.values())
    assert "None of the ten classes: this looks like a hot dog (" in lines["hot_dog.jpg"]
    assert "this looks like a dragonfly" in lines["dragonfly.jpg"]
    assert "this looks like a daisy" in lines["sunflower.jpg"] or "sunflower" in lines["sunflower.jpg"].split("like")[1]
    assert "EfficientNet-Lite0 (transfer)" in err and "with its scope check" in err
    assert "3 classified (3 out of scope), 0 failed" in err


def test_cifar_class_samples_are_all_in_scope(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    assert cli.main(["classify", "--device", "cpu", *map(str, CIFAR_CLASS_SAMPLES), "--json", str(out)]) == 0
    rows = json.loads(out.read_text("utf-8"))
    assert len(rows) == 8
    assert [r["in_scope"] for r in rows] == [True] * 8 and all(r["looks_like"] for r in rows)
    assert all(r["model"] == "efficientnet_lite0" for r in rows)


def test_no_scope_check_turns_it_off(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.csv"
    assert cli.main(["classify", "--device", "cpu", "--no-scope-check", str(NOT_CIFAR), "--csv", str(out)]) == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    assert len(rows) == 3 and {(r["in_scope"], r["looks_like"], r["scope_reason"]) for r in rows} == {("", "", "")}
    assert "scope check" not in capsys.readouterr().err


def test_csv_carries_the_verdict_and_small_images_are_not_judged(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "hot_dog.jpg").write_bytes((NOT_CIFAR / "hot_dog.jpg").read_bytes())
    with Image.open(NOT_CIFAR / "hot_dog.jpg") as im:
        im.convert("RGB").resize((40, 30)).save(folder / "tiny_hot_dog.png")
    out = tmp_path / "r.csv"
    assert cli.main(["classify", "--device", "cpu", str(folder), "--csv", str(out)]) == 0
    rows = {Path(r["path"]).name: r for r in csv.DictReader(out.open(encoding="utf-8", newline=""))}
    assert rows["hot_dog.jpg"]["in_scope"] == "False" and rows["hot_dog.jpg"]["looks_like"] == "hot dog"
    assert rows["hot_dog.jpg"]["scope_reason"].startswith("None of the ten classes: this looks like a hot dog (")
    assert rows["tiny_hot_dog.png"]["in_scope"] == "" and "Too small" in rows["tiny_hot_dog.png"]["scope_reason"]


def test_models_marks_the_default_the_general_model_and_the_checks(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["models"]) == 0
    lines = {line.split("[")[1].split("]")[0]: line for line in capsys.readouterr().out.splitlines() if "[" in line}
    assert "(default)" in lines["efficientnet_lite0"] and "(scope check)" in lines["efficientnet_lite0"]
    assert "(scope check)" in lines["vgg"] and "(default)" not in lines["vgg"]
    assert "(general model)" in lines["efficientnet_lite0_imagenet"]
    assert "(scope check)" not in lines["efficientnet_lite0_imagenet"]
    assert '"none of the ten" built in' in lines["cifar10_via_imagenet"]
