"""The dataset loader on generated folders and archives (real Pillow decoding)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.training.conftest import COLOURS, CORRUPT, TEST_PER_CLASS, TRAIN_PER_CLASS, make_dataset
from training.data import DatasetLayoutError, load_dataset
from training.data import decode as decode_module
from training.data.layout import list_dataset
from training.data.splits import stratified_split, stratified_subset

LABELS = tuple(sorted(COLOURS))


def _check_colours(x: np.ndarray, y: np.ndarray) -> None:
    """Every decoded image is mostly its class colour (labels follow folder names)."""
    for image, label in zip(x, y):
        expected = np.array(COLOURS[LABELS[label]])
        assert np.abs(image.reshape(-1, 3).mean(0) - expected).max() < 12


@pytest.mark.parametrize("kind", ["folder", "tarball"])
def test_loads_dataset_and_lists_the_corrupt_file(kind, colour_dataset, colour_tarball, caplog):
    source = colour_dataset if kind == "folder" else colour_tarball
    data = load_dataset(source, seed=1, use_cache=False)
    assert data.labels == LABELS
    assert data.x_train.shape[1:] == (32, 32, 3) and data.x_train.dtype == np.uint8
    assert len(data.y_train) + len(data.y_val) == 3 * TRAIN_PER_CLASS
    assert len(data.y_test) == 3 * TEST_PER_CLASS
    assert np.bincount(data.y_val).tolist() == [1, 1, 1]  # 10% of 12 per class, stratified
    assert [Path(f).name for f, _ in data.skipped] == ["broken.jpg"]
    assert data.skipped[0][0].endswith(CORRUPT)
    assert "not" in data.skipped[0][1]  # the reason, e.g. "not an image file Pillow can read"
    assert "broken.jpg" in caplog.text
    assert data.summary()["skipped_files"][0]["file"].endswith("broken.jpg")
    _check_colours(data.x_train, data.y_train)
    _check_colours(data.x_test, data.y_test)


def test_folder_and_archive_decode_identically(colour_dataset, colour_tarball):
    a = load_dataset(colour_dataset, use_cache=False)
    b = load_dataset(colour_tarball, use_cache=False)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)


def test_decoding_matches_the_app_image_function(colour_dataset):
    from desktop_app.engine.images import load_image

    data = load_dataset(colour_dataset, use_cache=False)
    first_test = sorted((colour_dataset / "test" / LABELS[0]).iterdir())[0]
    np.testing.assert_array_equal(data.x_test[0], load_image(first_test, (32, 32)))


def test_limit_takes_a_stratified_subset_and_decodes_only_that(colour_tarball, monkeypatch):
    decoded: list[int] = []
    real = decode_module.decode_files

    def counting(source, names, size=(32, 32)):
        decoded.append(len(names))
        return real(source, names, size)

    monkeypatch.setattr("training.data.decode_files", counting)
    data = load_dataset(colour_tarball, limit=15, seed=3, use_cache=False)
    assert decoded == [15 + 3]  # 15 train + max(15 // 5, 3 classes) test
    assert len(data.y_train) + len(data.y_val) + len(data.skipped) == 15
    assert sorted(set(data.y_train.tolist())) == [0, 1, 2]
    assert np.bincount(data.y_test).tolist() == [1, 1, 1]


def test_second_load_comes_from_the_cache(colour_dataset, tmp_path, monkeypatch):
    monkeypatch.setenv("CIFAR_CLASSIFIER_CACHE", str(tmp_path / "cache"))
    source = make_dataset(tmp_path / "data")
    first = load_dataset(source, seed=2)
    assert list((tmp_path / "cache").glob("*.npz"))

    def fail(*args, **kwargs):
        raise AssertionError("decoded again despite the cache")

    monkeypatch.setattr("training.data.decode_files", fail)
    second = load_dataset(source, seed=2)
    np.testing.assert_array_equal(first.x_train, second.x_train)
    assert second.skipped == first.skipped
    # A changed dataset misses the cache.
    (source / "train" / "red" / "new.png").write_bytes((source / "train" / "red" / "001.png").read_bytes())
    with pytest.raises(AssertionError, match="decoded again"):
        load_dataset(source, seed=2)


def _without(root: Path, relative: str) -> Path:
    shutil.rmtree(root / relative)
    return root


@pytest.mark.parametrize(
    "breakage, message",
    [
        (lambda root: _without(root, "test"), "no images under test/"),
        (lambda root: _without(root, "test/red"), "only in train: ['red']"),
        (lambda root: _without(_without(root, "train"), "test"), "does not fit the dataset layout"),
    ],
)
def test_layout_errors_say_what_is_wrong(tmp_path, breakage, message):
    root = breakage(make_dataset(tmp_path / "data", corrupt=False))
    with pytest.raises(DatasetLayoutError, match=__import__("re").escape(message)):
        load_dataset(root, use_cache=False)


def test_missing_source_and_non_dataset_file(tmp_path):
    with pytest.raises(DatasetLayoutError, match="no such file or folder"):
        list_dataset(tmp_path / "nowhere")
    text = tmp_path / "notes.txt"
    text.write_text("x")
    with pytest.raises(DatasetLayoutError, match="expected a dataset folder or a .tar.gz"):
        list_dataset(text)
    fake = tmp_path / "broken.tar.gz"
    fake.write_bytes(b"not gzip at all")
    with pytest.raises(DatasetLayoutError, match="not a readable tar archive"):
        list_dataset(fake)


def test_only_corrupt_training_images_is_an_error(tmp_path):
    root = make_dataset(tmp_path / "data", corrupt=False)
    for image in (root / "train").rglob("*.*"):
        image.write_bytes(b"garbage")
    with pytest.raises(DatasetLayoutError, match="no readable images in the train split"):
        load_dataset(root, use_cache=False)


def test_stratified_split_is_seeded_and_proportional():
    y = np.repeat(np.arange(10), 5000)  # CIFAR-10's training split
    keep, held = stratified_split(y, 0.1, seed=0)
    assert len(keep) == 45_000 and len(held) == 5_000
    assert np.bincount(y[held]).tolist() == [500] * 10
    assert not set(keep) & set(held)
    np.testing.assert_array_equal(held, stratified_split(y, 0.1, seed=0)[1])
    assert not np.array_equal(held, stratified_split(y, 0.1, seed=1)[1])


def test_stratified_subset_keeps_class_shares():
    y = np.array([0] * 60 + [1] * 30 + [2] * 10)
    picked = stratified_subset(y, 20, seed=0)
    assert np.bincount(y[picked]).tolist() == [12, 6, 2]
    assert len(set(picked.tolist())) == 20
    assert len(stratified_subset(y, 1000, seed=0)) == 100
