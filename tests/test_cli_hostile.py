"""The command line under hostile input (issue 15): real processes, real signals, real pipes."""

from __future__ import annotations

import csv
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from desktop_app import cli
from tests.model_factory import make_endless


def _images(folder: Path, count: int, colour=(255, 0, 0)) -> Path:  # type: ignore[no-untyped-def]
    folder.mkdir(exist_ok=True)
    for i in range(count):
        Image.new("RGB", (8, 8), colour).save(folder / f"{i:04d}.png")
    return folder


def _start(repo_root: Path, code: str, *args: str) -> subprocess.Popen:
    """``python -c code args`` with the repo importable; stdout and stderr captured."""
    env = {**os.environ, "PYTHONPATH": str(repo_root)}
    return subprocess.Popen(
        [sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


RUN_CLI = "import sys; from desktop_app import cli; sys.argv[0] = 'image-classifier'; sys.exit(cli.main())\n"


def _wait_for(path: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


def _signal_and_wait(run: subprocess.Popen, signum: int) -> tuple[str, float]:
    """Send ``signum``; return the rest of stderr and the seconds the process took to end."""
    try:
        run.send_signal(signum)
        start = time.monotonic()
        _, err = run.communicate(timeout=10)
        return err, time.monotonic() - start
    finally:
        run.kill()


# --- 1 and 4: names and text ---------------------------------------------------------------------


def test_undecodable_name_keeps_every_row(tmp_path: Path, colour_model: Path) -> None:
    folder = _images(tmp_path / "d", 2)
    Image.new("RGB", (8, 8), (0, 0, 255)).save(os.fsdecode(bytes(folder) + b"/bad\xff.png"))
    for option, name in (("--csv", "o.csv"), ("--json", "o.json")):
        out = tmp_path / name
        assert cli.main(["classify", str(folder), "--model", str(colour_model), option, str(out)]) == 0
        text = out.read_text(encoding="utf-8")
        rows = list(csv.DictReader(text.splitlines())) if option == "--csv" else json.loads(text)
        assert len(rows) == 3 and any(r["path"].endswith("bad\\xff.png") for r in rows)


def test_terminal_output_escapes_control_characters(
    tmp_path: Path, colour_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    Image.new("RGB", (8, 8), (255, 0, 0)).save(folder / "a\x1b]0;owned\x07.png")
    (folder / "b\x1b[2J.png").write_text("not an image")
    assert cli.main(["classify", str(folder), "--model", str(colour_model)]) == 1
    captured = capsys.readouterr()
    assert "\x1b" not in captured.out + captured.err and "\x07" not in captured.out
    assert "a\\x1b]0;owned\\x07.png" in captured.out and "b\\x1b[2J.png" in captured.err


def test_formula_names_are_neutralised_in_the_csv(tmp_path: Path, colour_model: Path) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    for name in ("=1+2.png", "@SUM(A1).png", "+x.png", "-x.png"):
        Image.new("RGB", (8, 8), (0, 255, 0)).save(folder / name)
    out = tmp_path / "o.csv"
    assert (
        cli.main(
            ["classify", *sorted(str(p) for p in folder.iterdir()), "--model", str(colour_model), "--csv", str(out)]
        )
        == 0
    )
    for row in csv.reader(out.open(encoding="utf-8", newline="")):
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row), row
    rows = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    assert {row["model"] for row in rows} == {"colours"}


# --- 2: non-regular files, Ctrl-C and SIGTERM -----------------------------------------------------------


def test_a_fifo_named_jpg_does_not_hang_the_run(tmp_path: Path, colour_model: Path, repo_root: Path) -> None:
    folder = _images(tmp_path / "d", 1)
    os.mkfifo(folder / "x.jpg")
    out = tmp_path / "o.csv"
    run = _start(repo_root, RUN_CLI, "classify", str(folder), "--model", str(colour_model), "--csv", str(out))
    try:
        _, err = run.communicate(timeout=60)
    finally:
        run.kill()
    assert run.returncode == 1, err
    rows = {Path(r["path"]).name: r for r in csv.DictReader(out.open())}
    assert rows["0000.png"]["label"] == "red" and "not a regular file" in rows["x.jpg"]["error"]


STUCK_DECODE = """
import sys, threading, time
from pathlib import Path
import desktop_app.engine.batch as batch
real = batch.load_pixels_at
def load(path, sizes, fit, extra_min_side=0):  # a read that never returns (a hung network drive)
    if Path(path).name == "zz_stuck.png":
        Path(sys.argv[-1] + ".stuck").touch()
        threading.Event().wait()
    return real(path, sizes, fit=fit, extra_min_side=extra_min_side)
batch.load_pixels_at = load
from desktop_app import cli
sys.argv = ["image-classifier", *sys.argv[1:-1]]
sys.exit(cli.main())
"""


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_a_run_with_a_stuck_decode_within_2_s(
    tmp_path: Path, colour_model: Path, repo_root: Path, signum: int
) -> None:
    folder = _images(tmp_path / "d", 20)
    Image.new("RGB", (8, 8)).save(folder / "zz_stuck.png")
    out = tmp_path / "o.csv"
    run = _start(
        repo_root,
        STUCK_DECODE,
        "classify",
        str(folder),
        "--model",
        str(colour_model),
        "--batch-size",
        "1",
        "--csv",
        str(out),
        str(out),
    )
    try:
        _wait_for(Path(str(out) + ".stuck"))
        time.sleep(0.3)  # the rows before the stuck file are handed out meanwhile
    except BaseException:
        run.kill()
        raise
    err, elapsed = _signal_and_wait(run, signum)
    assert run.returncode == 130 and elapsed < 2.0, (run.returncode, elapsed, err)
    assert "Traceback" not in err and "interrupted" in err
    rows = list(csv.DictReader(out.open()))
    assert rows and all(r["label"] == "red" for r in rows)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_ctrl_c_stops_a_model_that_never_finishes_within_2_s(tmp_path: Path, repo_root: Path) -> None:
    model = make_endless(tmp_path / "endless.onnx")
    folder = _images(tmp_path / "d", 3)
    run = _start(repo_root, RUN_CLI, "classify", str(folder), "--model", str(model))
    try:
        deadline = time.monotonic() + 30
        while "model:" not in (line := run.stderr.readline()):
            assert line and time.monotonic() < deadline, "the run never started"
        time.sleep(0.5)  # now inside the endless Loop
    except BaseException:
        run.kill()
        raise
    err, elapsed = _signal_and_wait(run, signal.SIGINT)
    assert run.returncode == 130 and elapsed < 2.0, (run.returncode, elapsed, err)
    assert "Traceback" not in err


# --- 3: output targets ------------------------------------------------------------------------------


def test_refused_targets_exit_2_with_one_line_and_touch_nothing(
    tmp_path: Path, colour_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photo = tmp_path / "a.jpg"
    Image.new("RGB", (8, 8), (255, 0, 0)).save(photo)
    before = photo.read_bytes()
    os.mkfifo(tmp_path / "pipe.csv")
    for target in (photo, tmp_path, tmp_path / "pipe.csv", Path("/dev/null")):
        assert cli.main(["classify", str(photo), "--model", str(colour_model), "--csv", str(target)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("error: cannot write") and "Traceback" not in err
    assert photo.read_bytes() == before and stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert stat.S_ISFIFO(os.stat(tmp_path / "pipe.csv").st_mode)


def test_a_symlink_to_another_file_system_is_written_through(tmp_path: Path, colour_model: Path) -> None:
    shm = Path("/dev/shm")
    if not shm.is_dir() or not os.access(shm, os.W_OK) or os.stat(shm).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("needs a writable /dev/shm on another file system than tmp_path")
    real = shm / f"hostile-cli-{os.getpid()}.json"
    link = tmp_path / "o.json"
    link.symlink_to(real)
    folder = _images(tmp_path / "d", 3)
    try:
        assert cli.main(["classify", str(folder), "--model", str(colour_model), "--json", str(link)]) == 0
        assert link.is_symlink() and len(json.loads(real.read_text())) == 3
    finally:
        real.unlink(missing_ok=True)


def test_a_full_disk_exits_4_and_keeps_the_old_file(
    tmp_path: Path, colour_model: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    point = tmp_path / "small"
    point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(point)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs (needs root): {mounted.stderr.decode().strip()}")
    try:
        out = point / "o.csv"
        out.write_text("old\n")
        folder = _images(tmp_path / "d", 300)
        assert cli.main(["classify", str(folder), "--model", str(colour_model), "--csv", str(out)]) == 4
        err = capsys.readouterr().err
        assert "No space left on device" in err and "unchanged" in err and "Traceback" not in err
        assert out.read_text() == "old\n" and os.listdir(point) == ["o.csv"]
    finally:
        subprocess.run(["umount", "-l", str(point)], capture_output=True)


# --- 10: pipes, thresholds --------------------------------------------------------------------------


def test_a_closed_stdout_pipe_exits_quietly(tmp_path: Path, colour_model: Path, repo_root: Path) -> None:
    folder = _images(tmp_path / "d", 50)
    run = _start(repo_root, RUN_CLI, "classify", str(folder), "--model", str(colour_model))
    run.stdout.close()  # like `| head -0`: the reader is gone before the first row
    try:
        err = run.stderr.read()
        run.wait(timeout=60)
    finally:
        run.kill()
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
    assert run.returncode == cli.EXIT_BROKEN_PIPE


@pytest.mark.parametrize("value", ["nan", "-5", "inf", "1.5", "-inf", "x"])
def test_unsure_threshold_must_be_a_probability(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["classify", "a.jpg", f"--unsure-threshold={value}"]) == 2
    assert "give a number from 0 to 1" in capsys.readouterr().err
