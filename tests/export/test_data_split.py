"""``export.data.load_split`` on small generated datasets (folders and archives, real Pillow decoding)."""

from __future__ import annotations

import tarfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from desktop_app.engine.images import load_image
from export import data as data_module
from export.data import load_split

#: Folder name -> colour; folders sort as blue, green, red.
COLOURS = {"red": (220, 30, 40), "green": (40, 200, 50), "blue": (30, 40, 220)}
PER_CLASS = {"train": 3, "test": 4}
MODEL_LABELS = ["red", "green", "blue"]  # not the folder order: labels are mapped by name


def _write_dataset(root: Path) -> Path:
    seed = 0
    for split, count in PER_CLASS.items():
        for label, colour in COLOURS.items():
            folder = root / split / label
            folder.mkdir(parents=True)
            for i in range(count):
                seed += 1
                rng = np.random.default_rng(seed)
                size = (48, 40) if i == 0 else (32, 32)  # (width, height): the first one needs resizing
                pixels = np.clip(np.array(colour) + rng.normal(0, 20, (size[1], size[0], 3)), 0, 255)
                Image.fromarray(pixels.astype(np.uint8)).save(folder / f"{i:03d}.jpg", quality=90)
    (root / "README.txt").write_text("generated for tests\n")
    return root


def _tar(folder: Path, out: Path, arcname: str) -> Path:
    with tarfile.open(out, "w:gz") as tar:
        tar.add(folder, arcname=arcname)
    return out


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write_dataset(tmp_path_factory.mktemp("split") / "colours")


@pytest.fixture(scope="module", params=["folder", "tar", "tar-in-folder", "tar-dot"])
def source(request, folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("archives")
    if request.param == "folder":
        return folder
    if request.param == "tar":
        return _tar(folder, out / "colours.tar.gz", "")
    if request.param == "tar-in-folder":
        return _tar(folder, out / "colours.tar.gz", "cifar-like")  # one top-level folder
    return _tar(folder, out / "colours.tar.gz", ".")  # members named ./test/red/000.jpg


def test_loads_a_split_of_every_layout(source: Path, folder: Path):
    x, y = load_split(source, MODEL_LABELS)
    assert x.shape == (12, 32, 32, 3) and x.dtype == np.float32
    assert y.dtype == np.int64
    # Listing order (folders sorted: blue, green, red), labels mapped to the model's order.
    assert y.tolist() == [2] * 4 + [1] * 4 + [0] * 4
    reference, _ = load_split(folder, MODEL_LABELS)
    np.testing.assert_array_equal(x, reference)
    x, y = load_split(source, MODEL_LABELS, split="train")
    assert len(y) == 9 and y.tolist() == [2] * 3 + [1] * 3 + [0] * 3


@pytest.mark.parametrize("size", [(32, 32), (24, 40)])
def test_values_are_exactly_the_app_image_function(folder: Path, size):
    x, y = load_split(folder, MODEL_LABELS, size=size)
    files = [f for label in sorted(COLOURS) for f in sorted((folder / "test" / label).iterdir())]
    expected = np.stack([load_image(f, size) for f in files])
    assert x.shape == (12, *size, 3)
    np.testing.assert_array_equal(x, expected)
    for image, label in zip(x, y):  # each image is mostly its class colour
        assert np.abs(image.reshape(-1, 3).mean(0) - COLOURS[MODEL_LABELS[label]]).max() < 15


def test_label_order_follows_the_model_labels(folder: Path):
    _, y = load_split(folder, ["blue", "green", "red"])
    assert y.tolist() == [0] * 4 + [1] * 4 + [2] * 4
    _, y = load_split(folder, ["green", "red", "blue", "extra"])  # a label without a folder is fine
    assert y.tolist() == [2] * 4 + [0] * 4 + [1] * 4


def test_limit_is_balanced_and_decodes_only_the_chosen_files(source: Path, monkeypatch):
    decoded: list[str] = []
    real = data_module.decode_files

    def counting(src, names, *args, **kwargs):
        decoded.extend(names)
        return real(src, names, *args, **kwargs)

    monkeypatch.setattr(data_module, "decode_files", counting)
    x, y = load_split(source, MODEL_LABELS, limit=5)  # ceil(5 / 3) = 2 per class, then 5 in all
    assert y.tolist() == [2, 2, 1, 1, 0]
    assert len(decoded) == 5
    assert [Path(n).parent.name + "/" + Path(n).name for n in decoded] == [
        "blue/000.jpg",
        "blue/001.jpg",
        "green/000.jpg",
        "green/001.jpg",
        "red/000.jpg",
    ]
    full, _ = load_split(source, MODEL_LABELS)
    np.testing.assert_array_equal(x, full[[0, 1, 4, 5, 8]])
    _, y = load_split(source, MODEL_LABELS, limit=100)
    assert len(y) == 12


def test_unknown_class_folder_is_an_error(folder: Path):
    with pytest.raises(ValueError, match="class folder 'red' is not one of the model's labels"):
        load_split(folder, ["blue", "green"])


def test_missing_empty_and_bad_sources(folder: Path, tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="data not found"):
        load_split(tmp_path / "nothing.tar.gz", MODEL_LABELS)
    with pytest.raises(ValueError, match="no images in the 'test' split"):
        load_split(folder, MODEL_LABELS, limit=0)
    with pytest.raises(ValueError, match="split must be one of"):
        load_split(folder, MODEL_LABELS, split="val")
    (tmp_path / "test" / "red").mkdir(parents=True)
    with pytest.raises(ValueError, match="no images under"):  # the layout's own error
        load_split(tmp_path, MODEL_LABELS)


def test_an_unreadable_image_is_an_error(tmp_path: Path):
    root = _write_dataset(tmp_path / "data")
    (root / "test" / "green" / "broken.jpg").write_bytes(b"not a JPEG")
    with pytest.raises(ValueError, match=r"1 unreadable image\(s\) in the 'test' split: test/green/broken.jpg"):
        load_split(root, MODEL_LABELS)
