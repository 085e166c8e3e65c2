"""Where user-facing commands find CIFAR-10: --data, else $CIFAR10_DATA; the JPEG copy from Keras arrays."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from training.data.cifar import CIFAR10_LABELS, write_jpeg_copy
from training.data_source import DATA_ENV, default_data

REPO = Path(__file__).resolve().parents[2]


def test_environment_variable_is_the_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from export.cli import _parser as export_parser
    from training.cli import _parser as train_parser

    monkeypatch.delenv(DATA_ENV, raising=False)
    assert default_data() is None
    assert train_parser().parse_args(["evaluate", "runs/x", "--model", "deep_cnn"]).data is None
    monkeypatch.setenv(DATA_ENV, str(tmp_path / "cifar"))
    assert train_parser().parse_args(["evaluate", "runs/x", "--model", "deep_cnn"]).data == tmp_path / "cifar"
    assert export_parser().parse_args(["export", "runs/x", "--out", "m.onnx"]).data == tmp_path / "cifar"
    assert train_parser().parse_args(["train", "deep_cnn", "--data", "other"]).data == Path("other")


def test_jpeg_copy_reads_back_through_the_engine(tmp_path: Path) -> None:
    from export.data import load_split

    rng = np.random.default_rng(0)
    test = rng.integers(0, 256, (20, 32, 32, 3), dtype=np.uint8), np.arange(20) % 10
    train = rng.integers(0, 256, (10, 32, 32, 3), dtype=np.uint8), np.arange(10) % 10
    assert write_jpeg_copy(tmp_path / "copy", {"train": train, "test": test}) == 30
    assert sorted(p.name for p in (tmp_path / "copy" / "test" / "cat").iterdir()) == ["0000.jpg", "0001.jpg"]
    images, targets = load_split(tmp_path / "copy", CIFAR10_LABELS, split="test")
    assert images.shape == (20, 32, 32, 3) and sorted(targets.tolist()) == sorted(test[1].tolist())


def test_evaluate_script_without_data_says_how_to_get_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(DATA_ENV, raising=False)
    spec = importlib.util.spec_from_file_location("evaluate_onnx_paths", REPO / "scripts" / "evaluate_onnx.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    assert module.main([str(REPO / "assets" / "models" / "compact_vgg.onnx")]) == 2
    err = capsys.readouterr().err
    assert "--data PATH or set CIFAR10_DATA=PATH" in err and "cifar-train jpeg-copy" in err


def test_no_user_facing_command_or_default_points_into_the_workspace() -> None:
    """README/docs commands (indented or fenced lines) and script/package code never use ../shared."""
    docs = [REPO / "README.md", *(REPO / "docs").glob("*.md")]
    code = [
        *(REPO / "scripts").glob("*.py"),
        *(REPO / "scripts").glob("*.sh"),
        *(REPO / "training").rglob("*.py"),
        *(REPO / "export").rglob("*.py"),
        *(REPO / "desktop_app").rglob("*.py"),
        REPO / ".ci" / "run",
    ]
    offenders = []
    for doc in docs:
        fenced = False
        for number, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1):
            fenced ^= line.startswith("```")
            if (fenced or line.startswith("    ")) and "../shared" in line:
                offenders.append(f"{doc.name}:{number}")
    for file in code:
        text = file.read_text(encoding="utf-8", errors="ignore")
        if "../shared" in text or '"shared"' in text:
            offenders.append(str(file.relative_to(REPO)))
    assert offenders == []


def test_export_check_needs_only_the_runtime() -> None:
    """``python -m export check`` builds its --data option without importing training.data (tqdm, decoders)."""
    import subprocess
    import sys

    code = (
        "import sys; from export.cli import _parser; _parser(); "
        "loaded = [m for m in ('training.data', 'tqdm', 'tensorflow', 'keras') if m in sys.modules]; "
        "print(loaded); sys.exit(1 if loaded else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_offline_keras_download_says_what_to_do(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without data and without a network, training and jpeg-copy end with one line, not Keras' traceback."""
    import sys
    import types

    from training.cli import main

    def offline():  # type: ignore[no-untyped-def]
        raise Exception("URL fetch failure on https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz")

    fake = types.ModuleType("keras")
    fake.datasets = types.SimpleNamespace(cifar10=types.SimpleNamespace(load_data=offline))  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "keras", fake)
    assert main(["jpeg-copy", str(tmp_path / "copy")]) == 2
    err = capsys.readouterr().err
    assert "CIFAR-10 could not be downloaded by Keras (URL fetch failure" in err
    assert "--data PATH or CIFAR10_DATA=PATH" in err
