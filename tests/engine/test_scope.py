"""The ImageNet -> CIFAR-10 map, the scope decision, and the shipped general model on real photos."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from desktop_app.engine.contract import ModelInfo, read_model_info
from desktop_app.engine.scope import (
    CIFAR10_LABELS,
    DEFAULT_SCOPE_THRESHOLD,
    MIN_CHECK_SIDE,
    ScopeChecker,
    ScopeVerdict,
    checkable,
    default_map,
    find_general_model,
    has_scope_check,
    image_size,
    in_scope,
    is_general_model,
    looks_like,
    mapped_mass,
    read_map,
    verdicts,
    with_none_of_the_ten,
)
from export.imagenet import raw_class_names, readable_labels
from tests.conftest import REAL_PHOTOS, REPO_ROOT

GENERAL_FILE = REPO_ROOT / "assets" / "models" / "efficientnet_lite0_imagenet.onnx"
SAMPLES = REPO_ROOT / "assets" / "samples"
BIRDS = set(range(7, 25)) | set(range(80, 101)) | set(range(127, 147))
#: Every ImageNet class a CIFAR-10 class may take (the ranges of ../shared/EFFICIENTNET_LITE0.md and the
#: vehicle classes named in issue 16), so a typo in the map cannot slip in a fish or a teapot.
ALLOWED = {
    "airplane": {404, 895, 908},
    "automobile": {407, 436, 468, 479, 511, 581, 609, 627, 656, 661, 751, 817},
    "bird": BIRDS,
    "cat": set(range(281, 286)),
    "deer": {351, 352, 353},
    "dog": set(range(151, 269)),
    "frog": {30, 31, 32},
    "horse": {339},
    "ship": {403, 472, 484, 510, 554, 576, 625, 628, 724, 780, 814, 833, 871, 913, 914},
    "truck": {555, 569, 675, 717, 734, 864, 867},
}


@pytest.fixture(scope="module")
def doc() -> dict:
    return json.loads((REPO_ROOT / "desktop_app" / "engine" / "data" / "imagenet_to_cifar10.json").read_text())


def test_every_mapped_index_is_the_named_imagenet_class_of_the_right_kind(doc: dict) -> None:
    raw = raw_class_names()
    assert doc["cifar10_labels"] == list(CIFAR10_LABELS)
    for label, entries in doc["classes"].items():
        indices = {e["index"] for e in entries}
        assert indices <= ALLOWED[label], (label, sorted(indices - ALLOWED[label]))
        for entry in entries:
            assert raw[entry["index"]] == entry["name"], entry  # the name written beside it is that class
            assert entry["basis"], entry  # every line says why
    cifar_map = default_map()
    assert set(cifar_map.indices[CIFAR10_LABELS.index("dog")]) == set(range(151, 269))  # every dog breed
    assert set(cifar_map.indices[CIFAR10_LABELS.index("cat")]) == set(range(281, 286))
    assert set(cifar_map.indices[CIFAR10_LABELS.index("bird")]) == BIRDS
    for name in ("hotdog", "daisy", "dragonfly", "zebra", "lion", "timber_wolf", "ox", "tractor"):
        assert cifar_map.cifar_class_of(raw.index(name)) is None, name


def test_the_map_has_every_cifar_class_and_deer_only_through_antelopes() -> None:
    cifar_map = default_map()
    assert all(cifar_map.indices), "a CIFAR-10 class without an ImageNet class"
    raw = raw_class_names()
    assert [raw[i] for i in cifar_map.indices[CIFAR10_LABELS.index("deer")]] == ["hartebeest", "impala", "gazelle"]


def test_read_map_refuses_an_index_in_two_classes_or_out_of_range(tmp_path: Path, doc: dict) -> None:
    twice = json.loads(json.dumps(doc))
    twice["classes"]["cat"].append({"index": 151, "name": "Chihuahua", "basis": "wrong"})
    (tmp_path / "twice.json").write_text(json.dumps(twice))
    with pytest.raises(ValueError, match="two CIFAR-10 classes"):
        read_map(tmp_path / "twice.json")
    far = json.loads(json.dumps(doc))
    far["classes"]["cat"].append({"index": 1000, "name": "?", "basis": "wrong"})
    (tmp_path / "far.json").write_text(json.dumps(far))
    with pytest.raises(ValueError, match="0..999"):
        read_map(tmp_path / "far.json")


def test_matrix_sums_each_cifar_class_and_the_rest_is_none_of_the_ten() -> None:
    matrix = default_map().matrix()
    assert matrix.shape == (1000, 10) and set(np.unique(matrix)) == {0.0, 1.0}
    assert (matrix.sum(axis=1) <= 1).all()
    probs = np.zeros((2, 1000), np.float32)
    probs[0, [281, 285]] = 0.3  # tabby + Egyptian cat
    probs[0, 934] = 0.4  # hot dog
    probs[1, 934] = 1.0
    mass = mapped_mass(probs, matrix)
    assert mass[0, CIFAR10_LABELS.index("cat")] == pytest.approx(0.6) and mass[1].sum() == 0
    eleven = with_none_of_the_ten(mass)
    assert eleven.shape == (2, 11) and np.allclose(eleven.sum(1), 1) and eleven[1, 10] == 1


def test_in_scope_is_mapped_mass_at_or_over_the_threshold() -> None:
    mass = np.zeros((3, 10), np.float32)
    mass[0, 3] = DEFAULT_SCOPE_THRESHOLD  # exactly at the threshold: in
    mass[1, 3] = DEFAULT_SCOPE_THRESHOLD - 0.01
    mass[2, [1, 9]] = DEFAULT_SCOPE_THRESHOLD / 2  # split between two classes, summed: in
    assert in_scope(mass).tolist() == [True, False, True]
    assert in_scope(mass, threshold=0.5).tolist() == [False, False, False]


def test_verdicts_name_what_it_looks_like_in_one_line() -> None:
    labels = readable_labels()
    probs = np.zeros((3, 1000), np.float32)
    probs[0, 934], probs[0, 1] = 0.99, 0.01
    probs[1, 285], probs[1, 934] = 0.8, 0.2
    probs[2, 934] = 1.0
    out, inside, small = verdicts(probs, labels, default_map().matrix(), sizes=[(640, 480), (640, 480), (32, 32)])
    assert out == ScopeVerdict(False, "hot dog", pytest.approx(0.99), pytest.approx(0.0))
    assert out.reason == "None of the ten classes: this looks like a hot dog (99%)"
    assert inside.in_scope and inside.reason == "" and inside.looks_like == "Egyptian cat"
    assert small.in_scope is None and str(MIN_CHECK_SIDE) in small.reason  # too small to judge, said so
    assert looks_like(probs[1], labels)[0] == ["Egyptian cat"]
    with pytest.raises(ValueError):
        verdicts(probs, labels, default_map().matrix(), sizes=[None])


def test_article_before_a_vowel() -> None:
    verdict = ScopeVerdict(False, "espresso", 0.93, 0.01)
    assert verdict.reason == "None of the ten classes: this looks like an espresso (93%)"


def test_checkable_by_the_shorter_side_and_image_size_reads_the_header(tmp_path: Path) -> None:
    assert checkable(None) and checkable((MIN_CHECK_SIDE, 1000)) and not checkable((1000, MIN_CHECK_SIDE - 1))
    buffer = io.BytesIO()
    Image.new("RGB", (32, 40)).save(buffer, "PNG")
    assert image_size(buffer.getvalue()) == (32, 40)
    (tmp_path / "bad.png").write_bytes(b"not an image")
    assert image_size(tmp_path / "bad.png") is None


def _info(labels: tuple[str, ...], training: dict | None = None, name: str = "m") -> ModelInfo:
    return ModelInfo(Path(f"{name}.onnx"), labels, "image", (32, 32), "probabilities", name, training=training or {})


def test_which_models_get_a_scope_check_and_which_is_general() -> None:
    cifar = _info(CIFAR10_LABELS)
    general = _info(tuple(readable_labels()), {"model_kind": "general"}, "efficientnet_lite0_imagenet")
    other_general = _info(tuple(readable_labels()), {"model_kind": "general"}, "another")
    assert has_scope_check(cifar) and not has_scope_check(general) and not has_scope_check(_info(("a", "b")))
    assert is_general_model(general) and not is_general_model(cifar)
    assert find_general_model([cifar, other_general, general]) is general
    assert find_general_model([cifar, other_general]) is other_general
    assert find_general_model([cifar]) is None


@pytest.fixture(scope="module")
def checker() -> ScopeChecker:
    return ScopeChecker(read_model_info(GENERAL_FILE))


def test_shipped_general_model_is_marked_and_described(checker: ScopeChecker) -> None:
    info = checker.info
    assert info.labels == tuple(readable_labels()) and info.labels[0] == "tench" and info.labels[934] == "hot dog"
    assert info.display_name == "EfficientNet-Lite0, ImageNet, 1,000 classes" and info.dataset == "ImageNet-1k"
    assert is_general_model(info) and info.test_accuracy is None and info.input_size == (224, 224)
    assert "CIFAR-10 test accuracy" in info.description and "%" not in info.description  # says it has none
    agreement = info.training["export"]["float16_agreement"]
    assert info.stored_as == "float16" and agreement["cifar10_test_images"] >= 0.997 and agreement["real_photos"] == 1


def _sample_verdicts(checker: ScopeChecker, folder: Path) -> dict[str, ScopeVerdict]:
    return {f"{p.parent.name}/{p.stem}": checker.check_file(p) for p in sorted(folder.glob("*/*")) if p.suffix != ".md"}


#: Top-1 of the general model on the real photos (../shared/EFFICIENTNET_LITE0.md).
EXPECTED_TOP1 = {
    "bird/parrot": {"macaw"},
    "bird/bird": {"chickadee"},
    "_not-cifar/hot_dog": {"hot dog"},
    "_not-cifar/dragonfly": {"dragonfly"},
    "_not-cifar/sunflower": {"daisy"},
    "cat/cat_720p": {"Egyptian cat", "tiger cat"},
    "cat/cat_test_0": {"Egyptian cat", "tiger cat"},
    "cat/cat_train_0": {"Egyptian cat", "tiger cat"},
}


@pytest.mark.parametrize("folder", [SAMPLES, REAL_PHOTOS], ids=["assets-samples", "real-photos"])
def test_general_model_top1_and_scope_on_the_real_photos(checker: ScopeChecker, folder: Path) -> None:
    if not folder.is_dir():
        pytest.skip(f"{folder} not present")
    found = _sample_verdicts(checker, folder)
    assert set(EXPECTED_TOP1) <= set(found)
    labels = list(checker.info.labels)
    for name, verdict in found.items():
        if name in EXPECTED_TOP1:
            assert verdict.looks_like in EXPECTED_TOP1[name], (name, verdict)
        if name.startswith("dog/"):
            assert 151 <= labels.index(verdict.looks_like) <= 268, (name, verdict)  # a dog breed
        if name == "bird/owl":
            assert labels.index(verdict.looks_like) in BIRDS, verdict  # a bird class (ruffed grouse)
        # The "Done when": the three other things are out of scope, every CIFAR-class photo in.
        assert verdict.in_scope is (not name.startswith("_not-cifar/")), (name, verdict)
    assert found["_not-cifar/hot_dog"].reason.startswith("None of the ten classes: this looks like a hot dog (")


def test_checker_skips_tiny_images_and_unreadable_files(checker: ScopeChecker, tmp_path: Path) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), "red").save(buffer, "PNG")
    assert checker.check_file(buffer.getvalue()).in_scope is None
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8 not really")
    assert checker.check_file(tmp_path / "broken.jpg").in_scope is None
    batch = np.zeros((2, 224, 224, 3), np.float32)
    assert [v.in_scope is None for v in checker.check_arrays(batch, sizes=[(32, 32), (224, 224)])] == [True, False]


def test_checker_refuses_a_model_that_is_not_imagenet(colour_model: Path) -> None:
    with pytest.raises(ValueError, match="1,000"):
        ScopeChecker(read_model_info(colour_model))
