"""Teaching end to end: folders -> contract file -> classify gives the taught labels."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest

from desktop_app.engine.classifier import Classifier
from desktop_app.engine.contract import read_model_info
from desktop_app.engine.images import load_pixels
from desktop_app.engine.novelty import NoveltyCheck, has_novelty_check
from desktop_app.engine.teach import TeachError, scan_folder, teach
from desktop_app.engine.teach_graph import load_model
from desktop_app.engine.teach_head import Cancelled
from desktop_app.engine.verdict import ScopeVerdict
from tests.teach.factory import CLASS_COLOURS, make_class_folders, photo


def test_taught_model_passes_the_contract_and_classifies_new_photos(taught, tmp_path: Path) -> None:
    info = read_model_info(taught.path)
    assert list(info.labels) == sorted(CLASS_COLOURS)
    classifier = Classifier(info)
    for k, (name, colour) in enumerate(CLASS_COLOURS.items()):
        new = tmp_path / f"new_{name}.jpg"
        photo(colour, seed=999 + k).save(new)  # never taught
        assert classifier.classify(new).label == name


def test_written_metadata(taught) -> None:
    info = read_model_info(taught.path)
    assert info.display_name == "Fruit and sky"
    assert info.description.startswith("taught from 12 photos in 3 classes on ")
    assert "logistic-regression head (3 classes)" in info.architecture
    assert info.metrics["num_test_images"] == 12
    assert "cross-validation" in info.metrics["held_out"]
    assert set(info.metrics["per_class"]) == set(CLASS_COLOURS)
    assert 0 <= info.test_accuracy <= 1 and info.test_accuracy == taught.held_out_accuracy
    training = info.training
    assert training["recipe"] == "teach-v1" and training["mirror_copies"] is True
    assert training["photos"] == {name: 4 for name in CLASS_COLOURS}
    assert training["l2"] in [float(k) for k in training["l2_cross_validation_log_loss"]]
    assert training["temperature"] > 0
    props = load_model(taught.path).metadata
    novelty = json.loads(props["novelty"])
    assert novelty["centres_shape"][0] == 3 and novelty["threshold"] > 0


def test_novelty_check_is_a_second_opinion(taught, backbone: Path) -> None:
    info = read_model_info(taught.path)
    check = NoveltyCheck(info, backbone=backbone)
    assert check.input_size == info.input_size
    photos = sorted(Path(taught.metadata["training"]["taught_from"]).glob("*/*.png"))
    batch = np.stack([load_pixels(p, check.input_size) for p in photos]).astype(np.float32)
    verdicts = check.check_arrays(batch, sizes=[None] * len(photos))
    assert len(verdicts) == 12 and all(isinstance(v, ScopeVerdict) for v in verdicts)
    assert sum(bool(v.in_scope) for v in verdicts) >= 10  # the taught photos themselves are in scope
    assert all(v.looks_like in CLASS_COLOURS for v in verdicts if v.in_scope)
    noise = np.random.default_rng(0).uniform(0, 255, (2, *check.input_size, 3)).astype(np.float32)
    for verdict in check.check_arrays(noise):
        if not verdict.in_scope:
            assert verdict.reason == "Unlike anything this model was taught" and verdict.looks_like


def test_a_taught_model_gets_its_novelty_check_as_second_opinion(taught, backbone: Path) -> None:
    """The window and the CLI ask ``second_opinion_for``; a taught model's results then carry the novelty verdict."""
    from desktop_app.engine.scope import second_opinion_for

    info = read_model_info(taught.path)
    opinion = second_opinion_for(info, [info, read_model_info(backbone)])
    if opinion is None:  # the stand-in backbone is not beside the taught file nor shipped
        pytest.skip("no general model for the novelty check")
    assert isinstance(opinion, NoveltyCheck)
    assert second_opinion_for(info, [info], enabled=False) is None
    photo_path = sorted(Path(taught.metadata["training"]["taught_from"]).glob("*/*.png"))[0]
    prediction = Classifier(info).classify(photo_path, scope=opinion)
    assert prediction.ok and isinstance(prediction.scope, ScopeVerdict) and prediction.in_scope is not None


def test_novelty_check_only_for_taught_models(taught, backbone: Path) -> None:
    assert has_novelty_check(read_model_info(taught.path))
    assert not has_novelty_check(read_model_info(backbone))
    assert NoveltyCheck.for_model(read_model_info(backbone)) is None
    with pytest.raises(ValueError, match="no novelty data"):
        NoveltyCheck(backbone, backbone=backbone)


def test_broken_image_and_empty_class_are_reported_not_fatal(tmp_path: Path, stand_in: Path) -> None:
    root = make_class_folders(tmp_path / "photos", per_class=3)
    (root / "apples" / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    (root / "apples" / "notes.txt").write_text("shopping list")
    (root / "empty").mkdir()
    (root / "stray.png").write_bytes(b"")
    plan = scan_folder(root)
    assert plan.labels == ["apples", "leaves", "sky"]
    assert any("'empty' has no images" in w for w in plan.warnings)
    assert any("only 4 photo" in w for w in plan.warnings)
    reasons = {p.name: r for p, r in plan.skipped}
    assert "class folder" in reasons["stray.png"] and "not an image" in reasons["notes.txt"]
    result = teach(plan, tmp_path / "m.onnx", backbone=stand_in)
    assert result.counts == {"apples": 3, "leaves": 3, "sky": 3}
    assert any(p.name == "broken.jpg" for p, _ in result.skipped)
    read_model_info(result.path)


def test_one_class_is_not_enough(tmp_path: Path) -> None:
    root = make_class_folders(tmp_path / "photos", classes={"only": (1, 2, 3)})
    (root / "empty").mkdir()
    with pytest.raises(TeachError, match="at least 2 subfolders"):
        scan_folder(root)


def test_cancel_writes_nothing(tmp_path: Path, stand_in: Path) -> None:
    root = make_class_folders(tmp_path / "photos")
    cancel = threading.Event()

    def progress(p) -> None:  # type: ignore[no-untyped-def]
        if p.stage == "features" and p.done >= 2:
            cancel.set()

    with pytest.raises(Cancelled):
        teach(root, tmp_path / "out" / "m.onnx", backbone=stand_in, cancel=cancel, on_progress=progress)
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_missing_backbone_is_a_clear_error(tmp_path: Path) -> None:
    root = make_class_folders(tmp_path / "photos")
    with pytest.raises(TeachError, match="was not found"):
        teach(root, tmp_path / "m.onnx", backbone=tmp_path / "nope.onnx")


def test_teaching_decodes_big_jpegs_at_the_smallest_draft_scale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PIL import Image, JpegImagePlugin

    from desktop_app.engine import teach as teach_module

    big = tmp_path / "big.jpg"
    Image.new("RGB", (4000, 3000), (30, 120, 200)).save(big, quality=90)
    decoded: list[tuple[int, int]] = []
    original = JpegImagePlugin.JpegImageFile.draft

    def spy(self, mode, size):  # type: ignore[no-untyped-def]
        result = original(self, mode, size)
        decoded.append(self.size)
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    pixels = teach_module._decode(big, (224, 224))
    assert isinstance(pixels, np.ndarray) and pixels.shape == (224, 224, 3)
    assert decoded == [(500, 375)]  # 1/8 scale (classifying decodes this photo at 1/4: 1000x750)
