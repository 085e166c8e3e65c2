"""``python -m export check``: the app's contract check, with problems named in plain words."""

from __future__ import annotations

from pathlib import Path

import pytest

from export.cli import main
from tests.model_factory import make_classifier


def test_valid_file_prints_ok_summary(colour_model, capsys) -> None:
    assert main(["check", str(colour_model)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK: colours.onnx") and "[N, 32, 32, 3]" in out and "red, green, blue" in out


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"omit_labels": True}, "metadata has no 'labels'"),
        ({"input_rank": 3}, "must have rank 4"),
        ({"output_width": 4}, "3 labels but the output has 4 classes"),
    ],
    ids=["missing-labels", "wrong-input-rank", "label-count-mismatch"],
)
def test_broken_file_fails_with_the_problem_named(kwargs, expected, tmp_path, capsys) -> None:
    path = make_classifier(tmp_path / "broken.onnx", **kwargs)
    assert main(["check", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"FAILED: {path}")
    assert any(expected in line for line in err.splitlines()[1:])


def test_every_problem_on_its_own_line(tmp_path, capsys) -> None:
    path = make_classifier(tmp_path / "bad.onnx", omit_labels=True, input_rank=2)
    assert main(["check", str(path)]) == 1
    problems = [line for line in capsys.readouterr().err.splitlines() if line.startswith("  - ")]
    assert len(problems) == 2


def test_missing_and_garbage_files_fail(tmp_path, capsys) -> None:
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"not a model")
    assert main(["check", str(tmp_path / "nope.onnx"), str(garbage)]) == 1
    err = capsys.readouterr().err
    assert "file not found" in err and "not a loadable ONNX model" in err


def test_one_bad_file_fails_the_run_but_all_are_checked(colour_model, tmp_path, capsys) -> None:
    bad = make_classifier(tmp_path / "bad.onnx", omit_labels=True)
    assert main(["check", str(bad), str(colour_model)]) == 1
    assert "OK: colours.onnx" in capsys.readouterr().out


def test_check_info_and_reduce_never_import_tensorflow(colour_model, tmp_path) -> None:
    """The file tools run where only onnx + onnxruntime are installed."""
    import subprocess
    import sys

    from tests.model_factory import make_classifier

    big = make_classifier(tmp_path / "big.onnx", labels=[f"c{i}" for i in range(400)])  # 1,200 weights
    code = (
        "import sys; from export.cli import main; "
        f"assert main(['check', {str(colour_model)!r}]) == 0; "
        f"assert main(['info', {str(colour_model)!r}]) == 0; "
        f"assert main(['reduce', {str(big)!r}, '--method', 'float16', '--out', {str(tmp_path / 'r.onnx')!r}]) == 0; "
        "heavy = sorted({'tensorflow', 'keras', 'tf2onnx', 'PySide6'} & set(sys.modules)); "
        "assert not heavy, heavy"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
