"""``image-classifier teach`` and ``classify`` with the taught model."""

from __future__ import annotations

import io
from pathlib import Path

from desktop_app.cli import main
from export.cli import main as export_main
from tests.teach.factory import make_class_folders


def test_teach_then_check_then_classify(tmp_path: Path, backbone: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    root = make_class_folders(tmp_path / "photos")
    out = tmp_path / "models" / "mine.onnx"
    stdout = io.StringIO()
    code = main(
        ["teach", str(root), "--out", str(out), "--name", "My colours", "--backbone", str(backbone)], out=stdout
    )
    text = stdout.getvalue()
    assert code == 0, capsys.readouterr().err
    assert "class apples: 4 photos" in text and "held-out accuracy" in text and str(out) in text
    assert export_main(["check", str(out)]) == 0
    stdout = io.StringIO()
    assert main(["classify", str(root), "--model", str(out)], out=stdout) == 0
    rows = [line.split() for line in stdout.getvalue().splitlines()]
    assert len(rows) == 12
    assert all(Path(row[-1]).parent.name == row[0] for row in rows)


def test_teach_exit_codes(tmp_path: Path, stand_in: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    root = make_class_folders(tmp_path / "photos", per_class=2)
    (root / "sky" / "bad.png").write_bytes(b"garbage")
    out = tmp_path / "m.onnx"
    assert main(["teach", str(root), "--out", str(out), "--backbone", str(stand_in)], out=io.StringIO()) == 1
    assert "skipped" in capsys.readouterr().err and out.is_file()
    assert main(["teach", str(tmp_path / "nowhere"), "--out", str(out)], out=io.StringIO()) == 2
    assert (
        main(["teach", str(root), "--out", str(out), "--backbone", str(tmp_path / "none.onnx")], out=io.StringIO()) == 3
    )
    lonely = make_class_folders(tmp_path / "lonely", classes={"one": (0, 0, 0)})
    assert main(["teach", str(lonely), "--out", str(out), "--backbone", str(stand_in)], out=io.StringIO()) == 1
    assert "at least 2 subfolders" in capsys.readouterr().err


def test_teaching_needs_neither_onnx_nor_tensorflow(tmp_path: Path, stand_in: Path) -> None:
    import subprocess
    import sys

    from tests.conftest import REPO_ROOT

    root = make_class_folders(tmp_path / "photos", per_class=2)
    code = (
        "import sys\n"
        "from desktop_app.cli import main\n"
        f"assert main(['teach', {str(root)!r}, '--out', {str(tmp_path / 'm.onnx')!r}, '--backbone', {str(stand_in)!r}]) == 0\n"
        "heavy = [m for m in ('onnx', 'tensorflow', 'keras', 'PySide6') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_a_class_with_only_unreadable_photos_is_left_out_and_said(tmp_path: Path, stand_in: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    root = make_class_folders(tmp_path / "photos", per_class=2)
    (root / "broken").mkdir()
    (root / "broken" / "a.jpg").write_bytes(b"not a jpeg")
    out = tmp_path / "m.onnx"
    assert main(["teach", str(root), "--out", str(out), "--backbone", str(stand_in)], out=io.StringIO()) == 1
    err = capsys.readouterr().err
    assert "class 'broken' has no readable photos: left out" in err and "a.jpg" in err
    from desktop_app.engine.contract import read_model_info

    assert list(read_model_info(out).labels) == ["apples", "leaves", "sky"]
