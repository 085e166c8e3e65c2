"""Streaming folder classification over real files with a real onnxruntime session."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from desktop_app.engine import batch as batch_module
from desktop_app.engine import classifier as classifier_module
from desktop_app.engine.batch import Progress, classify_stream, iter_image_files, share_of_batch
from desktop_app.engine.classifier import Classifier
from desktop_app.engine.contract import read_model_info
from desktop_app.engine.sessions import Device
from tests.engine.conftest import EXPECTED


@pytest.fixture(scope="module")
def classifier(colour_model: Path) -> Classifier:
    return Classifier(read_model_info(colour_model), Device.CPU)


@pytest.fixture(autouse=True, params=[1, 2], ids=["one-run", "two-parallel-runs"])
def parallel_runs(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """Every test here runs with batches in the model one at a time and two side by side (the CPU default on 2 cores)."""
    monkeypatch.setattr(classifier_module, "intra_op_threads", lambda: request.param)
    return request.param


def make_folder(folder: Path, count: int, colour: tuple[int, int, int] = (255, 0, 0)) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", (8, 8), colour)
    for i in range(count):
        image.save(folder / f"img_{i:05d}.png")
    return folder


def test_batch_over_awkward_files_gives_one_row_per_file(awkward_dir: Path, classifier: Classifier) -> None:
    # The folder "folder.png" is a folder: it is walked (empty), not a row; every file is a row.
    explicit = [awkward_dir / name for name in EXPECTED if name != "folder.png"]
    rows = {Path(p.path).name: p for p in classify_stream(explicit, classifier, batch_size=4)}
    assert set(rows) == set(EXPECTED) - {"folder.png"}
    for name, prediction in rows.items():
        if EXPECTED[name] is None:
            assert prediction.ok, (name, prediction.error)
        else:
            assert not prediction.ok and prediction.error.startswith(f"{name}: "), name
    walked = list(classify_stream([awkward_dir], classifier, batch_size=5, workers=2))
    assert len(walked) == len(EXPECTED) - 1
    assert sum(not p.ok for p in walked) == sum(r is not None for r in EXPECTED.values()) - 1


def test_results_are_right_and_progress_counts(tmp_path: Path, classifier: Classifier) -> None:
    make_folder(tmp_path / "a", 10, (255, 0, 0))
    make_folder(tmp_path / "a" / "b", 7, (0, 0, 255))
    (tmp_path / "a" / "readme.txt").write_text("skip me")
    (tmp_path / "a" / ".hidden.png").write_text("skip me too")
    seen: list[Progress] = []
    predictions = list(classify_stream([tmp_path / "a"], classifier, batch_size=4, on_progress=seen.append))
    labels = [p.label for p in predictions]
    assert labels == ["red"] * 10 + ["blue"] * 7  # discovery order: a's files, then a/b
    final = seen[-1]
    assert (final.done, final.total, final.failed) == (17, 17, 0)
    assert final.rate > 0 and final.eta_s == 0


def test_non_recursive(tmp_path: Path, classifier: Classifier) -> None:
    make_folder(tmp_path, 3)
    make_folder(tmp_path / "sub", 2)
    assert len(list(classify_stream([tmp_path], classifier, recursive=False))) == 3


def test_symlink_loop_and_unreadable_folder_are_reported(tmp_path: Path) -> None:
    make_folder(tmp_path / "root", 2)
    os.symlink(tmp_path / "root", tmp_path / "root" / "loop")
    errors: list[tuple[Path, str]] = []
    files = list(iter_image_files([tmp_path / "root"], errors=errors))
    assert len(files) == 2
    assert [(p.name, "already visited" in r) for p, r in errors] == [("loop", True)]


def test_unreadable_folder_becomes_an_error_row(
    tmp_path: Path, classifier: Classifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_folder(tmp_path / "ok", 2)
    locked = make_folder(tmp_path / "locked", 2)
    real_scandir = os.scandir

    def scandir(path):  # type: ignore[no-untyped-def]
        if Path(path) == locked:  # root ignores chmod, so simulate the refusal
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    rows = list(classify_stream([tmp_path], classifier))
    errors = [p for p in rows if not p.ok]
    assert len(rows) == 3 and len(errors) == 1
    assert errors[0].error == "locked: cannot read this folder (Permission denied)"


def test_cancel_keeps_finished_results(tmp_path: Path, classifier: Classifier) -> None:
    make_folder(tmp_path, 300)
    cancel = threading.Event()
    kept = []
    for prediction in classify_stream([tmp_path], classifier, batch_size=16, cancel=cancel, workers=2):
        kept.append(prediction)
        if len(kept) == 16:
            cancel.set()  # after the first batch
    assert len(kept) == 16 and all(p.ok and p.label == "red" for p in kept)


def test_pending_decodes_are_bounded(tmp_path: Path, classifier: Classifier, monkeypatch: pytest.MonkeyPatch) -> None:
    make_folder(tmp_path, 120)
    in_flight = [0]
    peak = [0]
    lock = threading.Lock()
    real_decode = batch_module._decode

    def counting(*args):  # type: ignore[no-untyped-def]
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        return real_decode(*args)

    yielded = 0
    monkeypatch.setattr(batch_module, "_decode", counting)
    for _ in classify_stream([tmp_path], classifier, batch_size=8, workers=2):
        yielded += 1
        with lock:
            in_flight[0] -= 1
    assert yielded == 120
    # decoded but not yet yielded: the pending queue (2 x batch + workers), one batch being handed out and,
    # with parallel runs, one share of the batch per run in the model plus the one waiting for a run
    runs = classifier.parallel_runs
    assert peak[0] <= (2 * 8 + 2) + 8 + ((runs + 1) * share_of_batch(8, runs) if runs > 1 else 0)


def test_missing_explicit_file_is_a_row(tmp_path: Path, classifier: Classifier) -> None:
    rows = list(classify_stream([tmp_path / "gone.jpg"], classifier))
    assert len(rows) == 1 and rows[0].error == "gone.jpg: the file does not exist"


def test_bad_batch_size(classifier: Classifier) -> None:
    with pytest.raises(ValueError):
        list(classify_stream([], classifier, batch_size=0))


@pytest.mark.parametrize(
    ("cpus", "intra_op", "on_gpu", "expected"),
    [
        (2, 2, False, 1),
        (1, 1, False, 1),
        (8, 4, False, 4),
        (6, 4, False, 2),
        (16, 8, False, 4),
        (8, 4, True, 4),
        (2, 2, True, 2),
    ],
)
def test_decode_threads_use_the_cores_inference_leaves(
    monkeypatch: pytest.MonkeyPatch, cpus: int, intra_op: int, on_gpu: bool, expected: int
) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cpus)), raising=False)
    monkeypatch.setattr(batch_module, "intra_op_threads", lambda: intra_op)
    assert batch_module.decode_workers(on_gpu) == expected


def test_parallel_runs_give_the_same_rows_in_the_same_order(tmp_path: Path, classifier: Classifier) -> None:
    for i, colour in enumerate([(255, 0, 0), (0, 0, 255), (0, 255, 0)] * 5):
        make_folder(tmp_path / f"{i:02d}", 7, colour)
    (tmp_path / "05" / "broken.png").write_bytes(b"not a png")

    def rows(runs: int) -> list:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(classifier_module, "intra_op_threads", lambda: runs)
            assert classifier.parallel_runs == runs
            return list(classify_stream([tmp_path], classifier, batch_size=4))

    one, two = rows(1), rows(2)
    assert len(one) == len(two) == 106
    # error rows may come out early (module doc); the decoded files keep discovery order
    errors = ["broken.png: not an image file Pillow can read"]
    assert [p.error for p in one if not p.ok] == [p.error for p in two if not p.ok] == errors
    ok_one, ok_two = [p for p in one if p.ok], [p for p in two if p.ok]
    assert [p.path for p in ok_one] == [p.path for p in ok_two] == sorted(p.path for p in ok_one)
    assert [p.label for p in ok_one] == [p.label for p in ok_two] == (["red"] * 7 + ["blue"] * 7 + ["green"] * 7) * 5
    probabilities = [np.stack([p.probabilities for p in rows]) for rows in (ok_one, ok_two)]
    assert np.allclose(*probabilities, atol=1e-5)


@pytest.mark.parametrize(("batch", "runs", "share"), [(64, 1, 64), (64, 2, 32), (64, 3, 22), (5, 8, 1)])
def test_runs_side_by_side_share_the_batch(batch: int, runs: int, share: int) -> None:
    assert share_of_batch(batch, runs) == share


@pytest.mark.parametrize(
    ("decode_ms", "infer_ms", "cpus", "expected"),
    [
        (0.1, 1.3, 2, 1),
        (22.0, 1.3, 2, 2),
        (0.7, 0.7, 2, 1),
        (0.7, 0.7, 8, 4),
        (22.0, 0.7, 16, 16),
        (0.1, 0.7, 16, 2),
        (0.0, 0.0, 4, 1),
        (5.0, 1.0, 1, 1),
    ],
)
def test_decode_threads_follow_the_costs(decode_ms: float, infer_ms: float, cpus: int, expected: int) -> None:
    # decoding gets its share of the cores: CIFAR-sized JPEGs keep one thread, phone photos get them all
    assert batch_module.split_decode_threads(decode_ms / 1000, infer_ms / 1000, cpus) == expected


def test_decode_side_gives_every_size_from_one_decode(tmp_path: Path) -> None:
    photo = tmp_path / "photo.jpg"
    Image.new("RGB", (640, 480), (10, 200, 30)).save(photo, quality=90)
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg")
    decoder = batch_module.DecodeSide(
        [tmp_path], ((32, 32), (224, 224)), fit="crop", recursive=True, threads=1, max_threads=1, limit=8
    )
    try:
        assert decoder.refill() == []
        taken = {}
        while not decoder.done:
            taken.update(decoder.take(threading.Event()))
    finally:
        decoder.close(cancelled=False)
    assert decoder.done and set(taken) == {photo, tmp_path / "broken.jpg"}
    small, large = taken[photo].pixels
    assert taken[photo].size == (640, 480)
    assert small.shape == (32, 32, 3) and large.shape == (224, 224, 3)
    assert np.abs(small.astype(int) - (10, 200, 30)).max() <= 3
    assert taken[tmp_path / "broken.jpg"] == "broken.jpg: not an image file Pillow can read"
    assert decoder.cost.images == 2 and decoder.cost.per_image is not None


@pytest.mark.parametrize("threads", [1, 2])
def test_chunks_stay_on_one_decode_thread_or_spread_over_two(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, threads: int
) -> None:
    make_folder(tmp_path, 40)
    names: list[str] = []
    real_decode = batch_module._decode

    def recording(path, *args):  # type: ignore[no-untyped-def]
        names.append(threading.current_thread().name)
        time.sleep(0.005)  # queues build up, as with real photos
        return real_decode(path, *args)

    monkeypatch.setattr(batch_module, "_decode", recording)
    decoder = batch_module.DecodeSide(
        [tmp_path], ((32, 32),), fit="crop", recursive=True, threads=threads, max_threads=2, limit=16
    )
    taken = []
    try:
        decoder.refill()
        while not decoder.done:
            taken += decoder.take(threading.Event())
            decoder.refill()
    finally:
        decoder.close(cancelled=False)
    assert [path.name for path, _ in taken] == [f"img_{i:05d}.png" for i in range(40)]  # discovery order
    assert len(set(names)) == threads  # one thread keeps every chunk (no hand-off between threads); two share
    decoder.set_threads(9)
    assert decoder.threads == 2
    decoder.set_threads(0)
    assert decoder.threads == 1


def test_cancel_does_not_wait_for_a_hung_decode(
    tmp_path: Path, classifier: Classifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_folder(tmp_path, 3)
    cancel, release, hung, gave_up = threading.Event(), threading.Event(), threading.Event(), threading.Event()
    real_decode = batch_module._decode

    def hanging(path, *args):  # type: ignore[no-untyped-def]
        if path.name == "img_00001.png":
            hung.set()
            cancel.set()  # the user cancels while this file hangs (a stalled network drive)
            release.wait(10)
            gave_up.set()
        return real_decode(path, *args)

    monkeypatch.setattr(batch_module, "_decode", hanging)
    rows = list(classify_stream([tmp_path], classifier, cancel=cancel, workers=1))
    still_hanging = not gave_up.is_set()  # the stream returned while the decode still hung
    release.set()
    assert hung.is_set() and still_hanging and rows == []
