"""scripts/make_results_page.py: from reports alone, and with real ONNX models on photos."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
from PIL import Image

from tests.model_factory import solid_image
from tests.training.fake_reports import make_report
from training.reports import write_report

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "make_results_page.py"


@pytest.fixture(scope="module")
def page_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_results_page", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def runs(tmp_path: Path) -> list[Path]:
    return [write_report(tmp_path / "runs" / m, make_report(m, seed=i)) for i, m in enumerate(("deep_cnn", "vgg"))]


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    """A real-photos-like folder: one class folder per colour and a _not-cifar one."""
    root = tmp_path / "photos"
    for colour in ("red", "blue"):
        (root / colour).mkdir(parents=True)
        Image.fromarray(solid_image(colour, (40, 30)).astype("uint8")).save(root / colour / f"{colour}.png")
    (root / "_not-cifar").mkdir()
    Image.new("RGB", (20, 20), (128, 128, 128)).save(root / "_not-cifar" / "grey.jpg")
    (root / "ATTRIBUTION.md").write_text("not an image")
    return root


def test_page_from_reports_only(page_script: ModuleType, runs: list[Path], tmp_path: Path) -> None:
    page = tmp_path / "docs" / "results.md"
    assert page_script.main([str(r) for r in runs] + ["--photos", str(tmp_path / "none"), "--out", str(page)]) == 0
    text = page.read_text()
    for expected in (
        "84.98%",
        "77.50%",
        "### Deep Cnn",
        "### Vgg",
        "T = 1.500",
        '"optimizer": "sgd"',
        "(results/accuracy.png)",
        "(results/deep_cnn_confusion.png)",
        "(results/vgg_curves.png)",
        "Not run: no photos",
    ):
        assert expected in text, expected
    for link in [line.split("](")[1].rstrip(")") for line in text.splitlines() if line.startswith("![")]:
        assert (page.parent / link).is_file(), link


def test_page_with_models_classifies_the_photos(
    page_script: ModuleType, runs: list[Path], photos: Path, colour_model: Path, tmp_path: Path
) -> None:
    page = tmp_path / "results.md"
    args = [
        str(runs[0]),
        "--models",
        str(colour_model),
        "--photos",
        str(photos),
        "--out",
        str(page),
        "--note",
        "Status: *testing*.",
    ]
    assert page_script.main(args) == 0
    text = page.read_text()
    assert text.splitlines()[2] == "> Status: *testing*."
    assert f"| `{colour_model.name}` | Colour test model | float32 |" in text  # the shipped-files table
    assert "| red.png | red | red " in text and "✓" in text
    assert "| blue.png | blue | blue " in text
    assert "| grey.jpg | not CIFAR-10 |" in text
    assert "| Colour test model | 2/2 |" in text
    assert (tmp_path / "results" / "real_photos.png").stat().st_size > 0


def test_bad_report_is_a_clear_error(page_script: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "run").mkdir()
    assert page_script.main([str(tmp_path / "run"), "--out", str(tmp_path / "r.md")]) == 2
    assert "no such report" in capsys.readouterr().err
    assert not (tmp_path / "r.md").exists()
