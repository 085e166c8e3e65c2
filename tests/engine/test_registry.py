"""Model discovery keeps valid files and refuses broken ones with the contract's reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_app.engine.registry import ModelRegistry, shipped_models_dir
from tests.model_factory import colour_metadata, make_classifier


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("registry")
    make_classifier(folder / "good.onnx", metadata=colour_metadata(display_name="B good"))
    make_classifier(folder / "sub" / "nested.onnx", metadata=colour_metadata(display_name="A nested"))
    make_classifier(folder / "a" / "b" / "too_deep.onnx")
    make_classifier(folder / "no_labels.onnx", omit_labels=True)
    make_classifier(folder / "rank2.onnx", input_rank=2)
    make_classifier(folder / "mismatch.onnx", output_width=4)
    (folder / "garbage.onnx").write_bytes(b"\x00not a model at all" * 10)
    (folder / "readme.txt").write_text("not a model")
    return folder


def test_valid_and_refused(models_dir: Path) -> None:
    registry = ModelRegistry([models_dir])
    assert [m.display_name for m in registry.models] == ["A nested", "B good"]
    refused = {path.name: reason for path, reason in registry.refused}
    assert set(refused) == {"no_labels.onnx", "rank2.onnx", "mismatch.onnx", "garbage.onnx"}
    assert "no 'labels'" in refused["no_labels.onnx"]
    assert "rank 4" in refused["rank2.onnx"]
    assert "3 labels but the output has 4 classes" in refused["mismatch.onnx"]
    assert "not a loadable ONNX model" in refused["garbage.onnx"]


def test_get_by_name_path_and_display_name(models_dir: Path) -> None:
    registry = ModelRegistry([models_dir])
    assert registry.get("good").display_name == "B good"
    assert registry.get("A nested").name == "nested"
    assert registry.get(str(models_dir / "good.onnx")).name == "good"
    with pytest.raises(KeyError, match="known models: good, nested"):
        registry.get("resnet")


def test_name_collision_first_folder_wins(tmp_path: Path, models_dir: Path) -> None:
    make_classifier(tmp_path / "mine" / "good.onnx", metadata=colour_metadata(display_name="My good"))
    registry = ModelRegistry([models_dir, tmp_path / "mine"])
    assert registry.get("good").display_name == "B good"
    assert registry.get("mine/good").display_name == "My good"
    assert len(registry.models) == 3


def test_add_folder_reports_its_own_files_and_refresh(tmp_path: Path, models_dir: Path) -> None:
    registry = ModelRegistry([models_dir])
    added, refused = registry.add_folder(tmp_path)
    assert added == [] and refused == []
    make_classifier(tmp_path / "late.onnx")
    added, _ = registry.add_folder(tmp_path)
    assert [m.name for m in added] == ["late"]
    (tmp_path / "late.onnx").unlink()
    registry.refresh()
    assert "late" not in {m.name for m in registry.models}
    assert registry.folders == [models_dir.resolve(), tmp_path.resolve()]


def test_missing_folder_does_not_raise(tmp_path: Path) -> None:
    registry = ModelRegistry([tmp_path / "nowhere"])
    assert registry.models == []
    with pytest.raises(KeyError, match="none"):
        registry.get("x")


def test_default_is_the_shipped_folder(repo_root: Path) -> None:
    assert shipped_models_dir() == repo_root / "assets" / "models"
    assert ModelRegistry().folders == [shipped_models_dir()]


def test_most_accurate_is_the_default_and_unrecorded_accuracy_comes_last(tmp_path: Path) -> None:
    for name, accuracy in (("a_low", 0.5), ("b_best", 0.95), ("c_unknown", None)):
        meta = colour_metadata(display_name=name)
        if accuracy is None:
            del meta["metrics"]["test_accuracy"]
        else:
            meta["metrics"]["test_accuracy"] = accuracy
        make_classifier(tmp_path / f"{name}.onnx", metadata=meta)
    assert ModelRegistry([tmp_path]).most_accurate().name == "b_best"
    (tmp_path / "b_best.onnx").unlink()
    assert ModelRegistry([tmp_path]).most_accurate().name == "a_low"
    assert ModelRegistry([tmp_path / "empty"]).most_accurate() is None
