"""Hostile input and output targets (issue 15): each case a user or a bad file can cause.

Cases that need root or a second file system skip with the reason when they
cannot run: a tiny tmpfs is mounted for the full-disk and read-only cases,
and /dev/shm (a tmpfs, usually another device than tmp_path) is the target
of the cross-device symlink.
"""

from __future__ import annotations

import csv
import json
import os
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from desktop_app.engine.batch import classify_stream
from desktop_app.engine.classifier import Classifier, InferenceCancelled, error_prediction, make_prediction
from desktop_app.engine.contract import read_model_info
from desktop_app.engine.images import ImageLoadError, load_pixels
from desktop_app.engine.results import (
    MAX_CLASS_COLUMNS,
    OutputTargetError,
    check_output_target,
    class_columns,
    csv_safe,
    escape_for_terminal,
    open_result_writer,
    remove_stale_temporary_files,
    result_columns,
    write_results,
)
from desktop_app.engine.sessions import Device
from tests.model_factory import make_endless

LABELS = ("cat", "dog", "bird")


def _prediction(path: str, labels=LABELS, row=(0.7, 0.2, 0.1)):  # type: ignore[no-untyped-def]
    return make_prediction(path, np.array(row, dtype=np.float32), labels, threshold=0.5)


def _in_thread(function, timeout: float = 5.0):  # type: ignore[no-untyped-def]
    """Run ``function`` on a daemon thread; fail (instead of hanging the suite) if it does not return."""
    result: list = []
    thread = threading.Thread(target=lambda: result.append(_outcome(function)), daemon=True)
    thread.start()
    thread.join(timeout)
    assert result, f"still running after {timeout} s (blocked)"
    return result[0]


def _outcome(function):  # type: ignore[no-untyped-def]
    try:
        return function()
    except Exception as exc:  # returned, so the test thread can assert on it
        return exc


@pytest.fixture()
def tmpfs(tmp_path: Path) -> Iterator:
    """``mount(options)`` -> a fresh tmpfs folder; unmounted afterwards. Skips without mount rights."""
    mounted: list[Path] = []

    def mount(options: str) -> Path:
        point = tmp_path / f"mnt{len(mounted)}"
        point.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)], capture_output=True)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here (needs root / CAP_SYS_ADMIN): {done.stderr.decode().strip()}")
        mounted.append(point)
        return point

    yield mount
    for point in mounted:
        subprocess.run(["umount", "-l", str(point)], capture_output=True)


# --- 1. names that are not valid UTF-8 ---------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_undecodable_names_keep_every_row(tmp_path: Path, suffix: str) -> None:
    bad = os.fsdecode(b"/photos/bad\xff.jpg")  # what os.scandir gives for such a name
    rows = [_prediction(bad), error_prediction(bad, f"{Path(bad).name}: the file is truncated"), _prediction("/ok.jpg")]
    out = write_results(tmp_path / f"r{suffix}", rows, LABELS)
    text = out.read_text(encoding="utf-8")
    if suffix == ".csv":
        got = list(csv.DictReader(text.splitlines()))
        assert [r["path"] for r in got] == ["/photos/bad\\xff.jpg", "/photos/bad\\xff.jpg", "/ok.jpg"]
        assert got[1]["error"] == "bad\\xff.jpg: the file is truncated"
    else:
        got = json.loads(text)
        assert [r["path"] for r in got] == ["/photos/bad\\xff.jpg", "/photos/bad\\xff.jpg", "/ok.jpg"]


def test_terminal_text_escapes_control_characters_and_bad_bytes() -> None:
    assert escape_for_terminal("a\x1b[31mred\r.jpg") == "a\\x1b[31mred\\r.jpg"
    assert escape_for_terminal(os.fsdecode(b"bad\xff.jpg")) == "bad\\xff.jpg"
    assert escape_for_terminal("café ☕.jpg") == "café ☕.jpg"


# --- 2. FIFOs, sockets and devices named *.jpg ----------------------------------------------------


def test_fifo_socket_and_device_are_never_opened(tmp_path: Path) -> None:
    fifo = tmp_path / "x.jpg"
    os.mkfifo(fifo)  # open() would block until a writer comes
    error = _in_thread(lambda: load_pixels(fifo, (8, 8)))
    assert isinstance(error, ImageLoadError) and error.reason == "not_a_file"
    assert "FIFO" in str(error)
    sock_path = tmp_path / "s.jpg"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(sock_path))
        error = _in_thread(lambda: load_pixels(sock_path, (8, 8)))
        assert isinstance(error, ImageLoadError) and error.reason == "not_a_file"
    finally:
        server.close()
    device = tmp_path / "zero.jpg"
    try:
        os.mknod(device, stat.S_IFCHR | 0o600, os.makedev(1, 5))  # /dev/zero: reading never ends
    except PermissionError:
        pytest.skip("creating a device node needs root")
    error = _in_thread(lambda: load_pixels(device, (8, 8)))
    assert isinstance(error, ImageLoadError) and error.reason == "not_a_file"


def test_a_fifo_in_a_folder_becomes_an_error_row_and_the_good_file_is_kept(tmp_path: Path, colour_model: Path) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    Image.new("RGB", (8, 8), (255, 0, 0)).save(folder / "a.jpg")
    os.mkfifo(folder / "x.jpg")
    classifier = Classifier(read_model_info(colour_model), Device.CPU)
    rows = _in_thread(lambda: list(classify_stream([folder], classifier, batch_size=4)))
    by_name = {Path(r.path).name: r for r in rows}
    assert by_name["a.jpg"].label == "red" and "not a regular file" in by_name["x.jpg"].error


def test_a_stuck_decode_does_not_hold_up_cancel(tmp_path: Path, colour_model: Path, monkeypatch) -> None:
    """A decode thread blocked in a read (hung network drive) must not keep a cancelled run from ending."""
    import desktop_app.engine.batch as batch

    release = threading.Event()
    real = batch.load_pixels_at

    def load(path, sizes, fit, extra_min_side=0):  # type: ignore[no-untyped-def]
        if Path(path).name == "stuck.png":
            release.wait(30)
        return real(path, sizes, fit=fit, extra_min_side=extra_min_side)

    monkeypatch.setattr(batch, "load_pixels_at", load)
    for name in ("stuck.png", "z.png"):
        Image.new("RGB", (8, 8), (0, 0, 255)).save(tmp_path / name)
    classifier = Classifier(read_model_info(colour_model), Device.CPU)
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    start = time.perf_counter()
    try:
        rows = _in_thread(lambda: list(classify_stream([tmp_path], classifier, cancel=cancel, workers=1)), 5)
        assert rows == [] and time.perf_counter() - start < 2.0
    finally:
        release.set()


# --- 3. output targets --------------------------------------------------------------------------


def test_targets_that_must_not_be_written_are_refused(tmp_path: Path) -> None:
    photo = tmp_path / "a.jpg"
    Image.new("RGB", (4, 4)).save(photo)
    os.mkfifo(tmp_path / "pipe.csv")
    inputs = [str(photo), str(tmp_path)]
    cases = {
        tmp_path: "it is a folder",
        tmp_path / "pipe.csv": "device, FIFO or socket",
        Path("/dev/null"): "device, FIFO or socket",
        photo: "one of the images to classify",
        tmp_path / "missing" / "r.csv": "does not exist",
    }
    for target, words in cases.items():
        with pytest.raises(OutputTargetError, match=words):
            check_output_target(target, inputs)
    other = tmp_path / "sub"
    other.mkdir()
    Image.new("RGB", (4, 4)).save(other / "b.png")
    with pytest.raises(OutputTargetError, match="one of the images"):  # would be read by the folder walk
        check_output_target(other / "b.png", [str(tmp_path)])
    assert check_output_target(tmp_path / "new.csv", inputs) == tmp_path / "new.csv"
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_symlinked_target_is_written_through_across_file_systems(tmp_path: Path) -> None:
    shm = Path("/dev/shm")
    if not shm.is_dir() or not os.access(shm, os.W_OK) or os.stat(shm).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("needs a writable /dev/shm on another file system than tmp_path")
    real = shm / f"hostile-{os.getpid()}.csv"
    real.write_text("old\n")
    link = tmp_path / "r.csv"
    link.symlink_to(real)
    try:
        assert check_output_target(link) == real
        write_results(link, [_prediction("/a.jpg")], LABELS)  # was: Invalid cross-device link, all rows lost
        assert link.is_symlink() and "/a.jpg" in real.read_text()
        assert not [p for p in shm.iterdir() if p.name.startswith(f".{real.name}.")]
    finally:
        real.unlink()


def test_a_full_disk_keeps_the_old_file_and_leaves_no_temporary_file(tmpfs) -> None:
    folder = tmpfs("size=64k")
    out = folder / "r.csv"
    out.write_text("old results\n")
    rows = (_prediction(f"/photos/{i:06d}.jpg") for i in range(5000))
    with pytest.raises(OSError) as info:
        write_results(out, rows, LABELS)
    assert info.value.errno == 28  # ENOSPC
    assert out.read_text() == "old results\n" and os.listdir(folder) == ["r.csv"]


def test_a_read_only_file_system_is_refused_before_the_run(tmpfs) -> None:
    folder = tmpfs("size=64k,ro")
    with pytest.raises(OutputTargetError, match="read-only"):
        check_output_target(folder / "r.csv")


# --- 4. CSV formula injection -------------------------------------------------------------------------


def test_every_csv_cell_that_starts_a_formula_is_neutralised(tmp_path: Path) -> None:
    labels = ('=HYPERLINK("http://x")', "+cmd", "-2+3")
    names = ["/p/=1+2.jpg", "@SUM(A1).jpg", "+x.jpg", "-x.jpg", "\tx.jpg", "\rx.jpg"]
    rows = [_prediction(name, labels) for name in names]
    rows += [error_prediction("=1+2.jpg", "=1+2.jpg: the file is truncated")]
    out = write_results(tmp_path / "r.csv", rows, labels, model="=evil")
    with out.open(encoding="utf-8", newline="") as f:
        table = list(csv.reader(f))
    for row in table:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (cell, row)
    header, first = table[0], table[1]
    assert 'p_=HYPERLINK("http://x")' in header
    assert first[0] == "/p/=1+2.jpg" and first[1] == '\'=HYPERLINK("http://x")' and first[5] == "'=evil"
    assert [r[0] for r in table[3:7]] == ["'+x.jpg", "'-x.jpg", "'\tx.jpg", "'\rx.jpg"]
    assert table[-1][-1] == "'=1+2.jpg: the file is truncated"
    data = json.loads(write_results(tmp_path / "r.json", rows, labels).read_text(encoding="utf-8"))
    assert data[2]["path"] == "+x.jpg" and data[0]["label"] == labels[0]  # JSON keeps the raw text


def test_csv_safe_cells() -> None:
    assert csv_safe("=café") == "'=café" and csv_safe("café") == "café"  # not ASCII: the full check
    assert csv_safe("-\udcff.jpg") == "'-\\xff.jpg" and csv_safe("bad\udcff.jpg") == "bad\\xff.jpg"
    assert csv_safe("@x") == "'@x" and csv_safe("x=1") == "x=1" and csv_safe("0.25") == "0.25"
    assert csv_safe("") == "" and csv_safe(True) is True and csv_safe(None) is None


def test_small_probabilities_are_not_escaped(tmp_path: Path) -> None:
    out = write_results(tmp_path / "r.csv", [_prediction("/a.jpg", row=(1 - 2e-5, 1e-05, 1e-05))], LABELS)
    row = next(csv.DictReader(out.open(encoding="utf-8", newline="")))
    assert row["p_dog"] == "1e-05"


# --- 7. labels that clash with result columns ----------------------------------------------------------


def test_labels_named_like_columns_lose_nothing(tmp_path: Path) -> None:
    labels = ("path", "p_path", "label", "error", "model")
    probabilities = (0.887, 0.05, 0.03, 0.02, 0.013)
    rows = [_prediction("/a.jpg", labels, probabilities)]
    columns = result_columns(labels)
    assert len(columns) == len(set(columns))
    out = write_results(tmp_path / "r.csv", rows, labels, model="m")
    with out.open(encoding="utf-8", newline="") as f:
        header, values = list(csv.reader(f))
    assert len(header) == len(set(header)) == len(values)
    row = dict(zip(header, values))
    assert row["path"] == "/a.jpg" and row["p_path"] == "0.887" and row["p_p_path"] == "0.05" and row["model"] == "m"
    data = json.loads(write_results(tmp_path / "r.json", rows, labels, model="m").read_text())[0]
    assert data["path"] == "/a.jpg" and data["p_path"] == pytest.approx(0.887) and data["p_error"] is not None
    assert data["model"] == "m"


def test_class_column_policy() -> None:
    assert class_columns(["cat", "dog"]) == ["p_cat", "p_dog"]
    assert len(class_columns([f"c{i}" for i in range(MAX_CLASS_COLUMNS)])) == MAX_CLASS_COLUMNS
    imagenet = [f"class {i}" for i in range(1000)]
    assert class_columns(imagenet) == [] and "top_k" in result_columns(imagenet)


def test_many_classes_get_top_k_only(tmp_path: Path) -> None:
    labels = [f"c{i}" for i in range(25)]
    row = np.full(25, 0.01, dtype=np.float32)
    row[3] = 0.76
    out = write_results(tmp_path / "r.csv", [make_prediction("/a.jpg", row, labels, threshold=0.5)], labels)
    header, values = list(csv.reader(out.open(encoding="utf-8", newline="")))
    assert header == [
        "path",
        "label",
        "probability",
        "unsure",
        "top_k",
        "model",
        "in_scope",
        "looks_like",
        "scope_reason",
        "error",
    ]
    assert values[1] == "c3" and values[4].startswith("c3:0.76")


# --- 9. 16-bit PNG conversion memory --------------------------------------------------------------------


def test_16_bit_png_conversion_stays_within_a_few_bytes_per_pixel(tmp_path: Path, repo_root: Path) -> None:
    """Peak RSS growth of decoding a 9-MP 16-bit PNG, in a fresh process (was 33 bytes/pixel: float64 copies)."""
    path = tmp_path / "grey16.png"
    values = (np.arange(3000 * 3000, dtype=np.uint32) % 65536).astype(np.uint16).reshape(3000, 3000)
    Image.fromarray(values).save(path)
    del values
    if not Path("/proc/self/status").exists():
        pytest.skip("peak memory is read from /proc/self/status (VmHWM), Linux only")
    # VmHWM, not ru_maxrss: Linux keeps ru_maxrss across exec, so the child would start at pytest's peak.
    script = (
        "import re, sys\n"
        "from PIL import Image\n"
        "from desktop_app.engine.images import load_pixels\n"
        "def peak():\n"
        "    return int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)) * 1024\n"
        "before = peak()\n"
        "pixels = load_pixels(sys.argv[1], (32, 32))\n"
        "print((peak() - before) / (3000 * 3000), pixels.mean())\n"
    )
    env = {**os.environ, "PYTHONPATH": str(repo_root)}
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    per_pixel, mean = map(float, done.stdout.split())
    assert 120 < mean < 135  # the whole 16-bit range scaled to 0..255, not clipped to white
    assert per_pixel < 12, f"{per_pixel:.1f} bytes per pixel"


# --- 10. cancel inside onnxruntime; stale temporary files ---------------------------------------------


def test_cancel_stops_a_model_run_that_never_finishes(tmp_path: Path) -> None:
    classifier = Classifier(read_model_info(make_endless(tmp_path / "endless.onnx")), Device.CPU)
    cancel, finished = threading.Event(), threading.Event()
    classifier.stop_runs_on(cancel, finished)
    threading.Timer(0.3, cancel.set).start()
    start = time.perf_counter()
    outcome = _in_thread(lambda: classifier.predict_arrays(np.zeros((1, 8, 8, 3), np.float32), cancel=cancel))
    finished.set()
    assert isinstance(outcome, InferenceCancelled) and time.perf_counter() - start < 2.0


def test_a_folder_run_on_an_endless_model_ends_on_cancel(tmp_path: Path) -> None:
    classifier = Classifier(read_model_info(make_endless(tmp_path / "endless.onnx")), Device.CPU)
    Image.new("RGB", (8, 8)).save(tmp_path / "a.png")
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    start = time.perf_counter()
    rows = _in_thread(lambda: list(classify_stream([tmp_path / "a.png"], classifier, cancel=cancel)))
    assert rows == [] and time.perf_counter() - start < 2.0


def test_stale_temporary_files_of_killed_runs_are_removed(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    orphan = tmp_path / f".r.csv.{dead_pid}.abc_1234.tmp"
    living = tmp_path / f".r.csv.{os.getppid()}.abc_1234.tmp"  # a process that still runs
    old_living = tmp_path / f".other.json.{os.getppid()}.zzzzzzzz.tmp"
    foreign = [tmp_path / ".r.csv.tmp", tmp_path / f".photo.jpg.{dead_pid}.abc_1234.tmp", tmp_path / "notes.tmp"]
    just_orphaned = tmp_path / f".new.csv.{dead_pid}.abc_1234.tmp"  # may be another PID namespace's live run
    for path in [orphan, living, old_living, just_orphaned, *foreign]:
        path.write_text("x")
        os.utime(path, (time.time() - 120,) * 2)
    os.utime(old_living, (time.time() - 2 * 86400,) * 2)
    os.utime(just_orphaned)
    with open_result_writer(tmp_path / "r.csv", LABELS) as writer:
        writer.write(_prediction("/a.jpg"))
        mine = [p for p in tmp_path.iterdir() if p.name.startswith(f".r.csv.{os.getpid()}.")]
        assert len(mine) == 1  # our own temporary file is hidden and carries our pid
    names = {p.name for p in tmp_path.iterdir()}
    assert orphan.name not in names and old_living.name not in names
    assert living.name in names and just_orphaned.name in names and all(p.name in names for p in foreign)
    assert remove_stale_temporary_files(tmp_path / "missing") == []
