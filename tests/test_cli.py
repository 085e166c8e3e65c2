"""The command line through ``main([...])``: exit codes 0/1/2/3, outputs, self-test."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from desktop_app import cli
from tests.model_factory import make_classifier


@pytest.fixture()
def images(tmp_path: Path) -> Path:
    folder = tmp_path / "images"
    folder.mkdir()
    Image.new("RGB", (40, 30), (255, 0, 0)).save(folder / "red.jpg")
    Image.new("RGB", (30, 40), (0, 0, 255)).save(folder / "blue.png")
    return folder


@pytest.fixture()
def no_shipped_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "no-shipped"
    empty.mkdir()
    monkeypatch.setattr("desktop_app.engine.registry.shipped_models_dir", lambda: empty)


def test_classify_to_stdout(images: Path, colour_model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["classify", str(images), "--model", str(colour_model), "--device", "cpu"])
    out, err = capsys.readouterr()
    assert code == 0
    lines = sorted(out.splitlines())
    assert len(lines) == 2 and lines[0].startswith("blue") and lines[1].startswith("red")
    assert "2 classified, 0 failed" in err and "on CPU" in err


def test_classify_csv_with_a_bad_file_exits_1(images: Path, colour_model: Path, tmp_path: Path) -> None:
    (images / "broken.jpg").write_text("not an image")
    out = tmp_path / "results.csv"
    code = cli.main(
        [
            "classify",
            str(images),
            "--models-dir",
            str(colour_model.parent),
            "--model",
            "colours",
            "--csv",
            str(out),
            "--top-k",
            "2",
        ]
    )
    assert code == 1
    rows = {Path(r["path"]).name: r for r in csv.DictReader(out.open(encoding="utf-8"))}
    assert rows["red.jpg"]["label"] == "red" and rows["blue.png"]["label"] == "blue"
    assert rows["broken.jpg"]["error"] == "broken.jpg: not an image file Pillow can read"
    assert rows["red.jpg"]["top_k"].count(";") == 1


def test_classify_json_and_cuda_fallback_notice(
    images: Path, colour_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.json"
    assert (
        cli.main(
            ["classify", str(images / "red.jpg"), "--model", str(colour_model), "--json", str(out), "--device", "cuda"]
        )
        == 0
    )
    assert json.loads(out.read_text())[0]["label"] == "red"
    assert "note: CUDA was requested but is not available" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["classify"],
        ["classify", "x.jpg", "--device", "tpu"],
        ["classify", "x.jpg", "--csv", "a.csv", "--json", "a.json"],
        ["classify", "x.jpg", "--top-k", "0"],
        ["--bogus"],
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(argv) == 2
    assert "usage:" in capsys.readouterr().err


def test_missing_output_folder_is_a_usage_error(images: Path, colour_model: Path, tmp_path: Path) -> None:
    assert (
        cli.main(["classify", str(images), "--model", str(colour_model), "--csv", str(tmp_path / "no" / "r.csv")]) == 2
    )


def test_no_model_exits_3(images: Path, no_shipped_models: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["classify", str(images)]) == 3
    assert "no valid models found" in capsys.readouterr().err
    assert cli.main(["classify", str(images), "--model", "resnet"]) == 3
    assert cli.main(["models"]) == 3


def test_broken_model_file_exits_3(images: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = make_classifier(tmp_path / "bad.onnx", omit_labels=True)
    assert cli.main(["classify", str(images), "--model", str(bad)]) == 3
    assert "no 'labels'" in capsys.readouterr().err


def test_models_lists_valid_and_refused(
    tmp_path: Path, no_shipped_models: None, capsys: pytest.CaptureFixture[str]
) -> None:
    make_classifier(tmp_path / "m" / "good.onnx")
    make_classifier(tmp_path / "m" / "bad.onnx", output_width=5)
    assert cli.main(["models", "--models-dir", str(tmp_path / "m")]) == 0
    out = capsys.readouterr().out
    assert "Colour test model  [good]  accuracy 90.00%  input 32x32  3 labels" in out
    assert "refused" in out and "bad.onnx: 3 labels but the output has 5 classes" in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("image-classifier ")


def test_self_test_without_models_fails(no_shipped_models: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--self-test"]) == 3
    assert "no shipped models" in capsys.readouterr().out


def test_self_test_in_a_bundle_layout(
    tmp_path: Path,
    repo_root: Path,
    colour_model: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(repo_root / "assets" / "samples", bundle / "assets" / "samples")
    (bundle / "assets" / "models").mkdir()
    shutil.copy(colour_model, bundle / "assets" / "models" / "colours.onnx")
    monkeypatch.setattr(sys, "_MEIPASS", str(bundle), raising=False)
    assert cli.main(["--self-test", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    samples = len(list((bundle / "assets" / "samples").rglob("*.jpg")))
    assert f"{samples}/{samples}" in out and "self-test passed" in out
    (bundle / "assets" / "samples" / "cat" / "broken.jpg").write_bytes(b"\xff\xd8 nope")
    assert cli.main(["--self-test"]) == 1


def test_bare_paths_and_no_args_open_the_gui(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    monkeypatch.setattr(cli, "run_gui", lambda paths: calls.append(paths) or 0)
    assert cli.main([]) == 0 and cli.main(["photo.jpg", "b.png"]) == 0
    assert calls == [[], ["photo.jpg", "b.png"]]


def test_headless_imports_stay_light(repo_root: Path) -> None:
    code = (
        "import sys, desktop_app.engine, desktop_app.cli, desktop_app.selftest\n"
        "from desktop_app.engine import batch, classifier, images, registry, results, sessions\n"
        "heavy = [m for m in ('PySide6', 'tensorflow', 'keras', 'tf2onnx', 'onnx') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=repo_root, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_python_dash_m(repo_root: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "desktop_app", "--version"], cwd=repo_root, capture_output=True, text=True
    )
    assert result.returncode == 0 and result.stdout.startswith("image-classifier")


def test_interrupt_keeps_finished_rows(
    tmp_path: Path, colour_model: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(40):
        Image.new("RGB", (8, 8), (0, 255, 0)).save(folder / f"{i:02d}.png")
    from desktop_app.engine.results import ResultWriter

    real_write = ResultWriter.write

    def write(self, prediction):  # type: ignore[no-untyped-def]
        if self.count == 9:
            raise KeyboardInterrupt  # Ctrl-C while the tenth row arrives
        real_write(self, prediction)

    monkeypatch.setattr(ResultWriter, "write", write)
    out = tmp_path / "r.csv"
    assert (
        cli.main(["classify", str(folder), "--model", str(colour_model), "--batch-size", "8", "--csv", str(out)]) == 130
    )
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 9 and all(r["label"] == "green" for r in rows)
    assert "interrupted" in capsys.readouterr().err


def test_progress_line_only_on_a_terminal() -> None:
    import io

    from desktop_app.engine.batch import Progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal, pipe = Terminal(), io.StringIO()
    for stream in (terminal, pipe):
        line = cli.ProgressLine(stream)
        line(Progress(done=50, total=200, failed=2, elapsed_s=2.0))
        line.close()
    assert "\r50/200 images  25/s  2 failed  ETA 6 s" in terminal.getvalue()
    assert pipe.getvalue() == ""


def test_output_format_follows_the_option_not_the_suffix(images: Path, colour_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "results.txt"
    assert cli.main(["classify", str(images), "--model", str(colour_model), "--json", str(out)]) == 0
    assert {row["label"] for row in json.loads(out.read_text())} == {"red", "blue"}


def test_device_and_models_dir_reach_the_gui(monkeypatch: pytest.MonkeyPatch) -> None:
    """``image-classifier --device cuda PHOTO`` used to exit 2; now the options go to the window."""
    calls: list[tuple] = []
    monkeypatch.setattr(cli, "run_gui", lambda paths, **kw: calls.append((paths, kw)) or 0)
    assert cli.main(["--device", "cuda", "photo.jpg"]) == 0
    assert cli.main(["photo.jpg", "--models-dir", "m1", "--models-dir", "m2"]) == 0
    assert calls == [
        (["photo.jpg"], {"device": "cuda", "models_dirs": []}),
        (["photo.jpg"], {"device": None, "models_dirs": ["m1", "m2"]}),
    ]
    assert cli.main(["--device", "tpu", "photo.jpg"]) == 2  # a bad choice is still a usage error
