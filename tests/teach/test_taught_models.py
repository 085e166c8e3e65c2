"""The user's taught models: where they live, rename, re-teach, delete."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from desktop_app.engine import taught_models as store
from desktop_app.engine.contract import read_model_info
from desktop_app.engine.teach import teach
from tests.model_factory import make_classifier
from tests.teach.factory import make_class_folders, photo


@pytest.fixture()
def models_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(store.DATA_ENV, str(tmp_path / "data"))
    return store.user_models_dir()


def test_models_folder_follows_the_platform(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(store.DATA_ENV, raising=False)
    monkeypatch.setattr(store.sys, "platform", "linux")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert store.user_models_dir() == tmp_path / "cifar-image-classifier" / "Image Classifier" / "models"


def test_file_names_are_safe() -> None:
    assert store.file_name_for("Ripe fruit!") == "ripe_fruit.onnx"
    assert store.file_name_for("../..") == "taught_model.onnx"


def test_rename_reteach_delete(tmp_path: Path, models_dir: Path, stand_in: Path) -> None:
    root = make_class_folders(tmp_path / "photos", per_class=3)
    path = teach(root, models_dir / "colours.onnx", name="Colours", backbone=stand_in).path
    make_classifier(models_dir / "not_taught.onnx")
    assert [m.display_name for m in store.taught_models()] == ["Colours"]

    assert store.rename_model(path, "  Garden colours ").display_name == "Garden colours"

    photo((200, 40, 40), seed=77).save(root / "apples" / "more.png")
    shutil.rmtree(root / "sky")
    result = store.reteach(path, backbone=stand_in)
    info = read_model_info(path)
    assert result.path == path and info.display_name == "Garden colours"
    assert list(info.labels) == ["apples", "leaves"] and info.training["photos"]["apples"] == 4

    store.delete_model(path)
    assert not path.exists() and store.taught_models() == []


def test_models_not_taught_here_are_left_alone(tmp_path: Path) -> None:
    other = make_classifier(tmp_path / "shipped.onnx")
    with pytest.raises(ValueError, match="not taught"):
        store.delete_model(other)
    with pytest.raises(ValueError, match="not taught"):
        store.rename_model(other, "x")
    assert other.exists()


def test_relative_folder_is_recorded_absolute_and_reteach_finds_it(
    tmp_path: Path, models_dir: Path, stand_in: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_class_folders(tmp_path / "photos", per_class=3)
    monkeypatch.chdir(tmp_path)
    path = teach(Path("photos"), models_dir / "rel.onnx", backbone=stand_in).path
    info = read_model_info(path)
    assert info.training["source_folder"] == str((tmp_path / "photos").resolve())
    assert store.source_folder(info) == info.training["source_folder"]
    monkeypatch.chdir(models_dir)  # the relative name no longer leads anywhere
    assert store.reteach(path, backbone=stand_in).counts == {"apples": 3, "leaves": 3, "sky": 3}
    shutil.rmtree(tmp_path / "photos")
    with pytest.raises(ValueError, match="not at"):
        store.reteach(path, backbone=stand_in)
