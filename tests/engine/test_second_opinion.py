"""second_opinion_for, the check on the same decode in classify / classify_stream, and the default model."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from desktop_app.engine.batch import classify_stream
from desktop_app.engine.classifier import get_classifier
from desktop_app.engine.registry import ModelRegistry, shipped_models_dir
from desktop_app.engine.scope import ScopeChecker, second_opinion_for

SHIPPED = shipped_models_dir()
NOT_CIFAR = SHIPPED.parents[0] / "samples" / "_not-cifar"

pytestmark = pytest.mark.skipif(
    not (SHIPPED / "efficientnet_lite0_imagenet.onnx").is_file(), reason="the general model is not in assets/models"
)


@pytest.fixture(scope="module")
def registry() -> ModelRegistry:
    return ModelRegistry()


def test_which_models_get_a_second_opinion(registry: ModelRegistry) -> None:
    kinds = {m.name: second_opinion_for(m, registry.models, "cpu") for m in registry.models}
    assert all(isinstance(kinds[n], ScopeChecker) for n in ("vgg", "deep_cnn", "compact_vgg", "efficientnet_lite0"))
    assert kinds["efficientnet_lite0_imagenet"] is None and kinds["cifar10_via_imagenet"] is None
    assert kinds["vgg"] is kinds["deep_cnn"]  # one checker per (general model file, device)
    assert second_opinion_for(registry.get("vgg"), registry.models, "cpu", enabled=False) is None
    without_general = [m for m in registry.models if m.name != "efficientnet_lite0_imagenet"]
    assert second_opinion_for(registry.get("vgg"), without_general, "cpu") is None


def test_single_image_and_stream_give_the_same_verdicts_and_skip_small_images(
    registry: ModelRegistry, tmp_path: Path
) -> None:
    info = registry.get("vgg")
    classifier, scope = get_classifier(info, "cpu"), second_opinion_for(info, registry.models, "cpu")
    (tmp_path / "hot_dog.jpg").write_bytes((NOT_CIFAR / "hot_dog.jpg").read_bytes())
    with Image.open(NOT_CIFAR / "hot_dog.jpg") as im:
        im.convert("RGB").resize((64, 47)).save(tmp_path / "small.png")  # shorter side 47 < MIN_CHECK_SIDE
    streamed = {Path(p.path).name: p for p in classify_stream([tmp_path], classifier, scope=scope)}
    for name, row in streamed.items():
        single = classifier.classify(tmp_path / name, scope=scope)
        assert single.label == row.label and single.in_scope == row.in_scope and single.looks_like == row.looks_like
    assert streamed["hot_dog.jpg"].in_scope is False and streamed["hot_dog.jpg"].looks_like == "hot dog"
    assert streamed["small.png"].in_scope is None and "Too small" in streamed["small.png"].scope.reason
    assert classifier.classify(tmp_path / "hot_dog.jpg").scope is None  # no scope given: no check


def test_default_model_is_the_transfer_model_with_its_scope_check(registry: ModelRegistry, tmp_path: Path) -> None:
    assert registry.default_model().name == "efficientnet_lite0"
    assert registry.most_accurate().name == "vgg"  # the CIFAR-10 test score alone would pick VGG
    # Without the general model beside it there is no scope check: the most accurate model is the default.
    for name in ("efficientnet_lite0.onnx", "vgg.onnx"):
        (tmp_path / name).symlink_to(SHIPPED / name)
    assert ModelRegistry([tmp_path]).default_model().name == "vgg"


def test_small_images_cost_no_general_model_run(registry: ModelRegistry, tmp_path: Path, monkeypatch) -> None:
    """CIFAR-sized files are neither resized to 224x224 nor run through the general model."""
    import numpy as np

    from desktop_app.engine.images import load_pixels_at

    Image.new("RGB", (32, 32), (200, 10, 10)).save(tmp_path / "a.png")
    pixels, size = load_pixels_at(tmp_path / "a.png", [(32, 32), (224, 224)], extra_min_side=48)
    assert size == (32, 32) and pixels[0].shape == (32, 32, 3) and pixels[1] is None
    info = registry.get("deep_cnn")
    scope = second_opinion_for(info, registry.models, "cpu")
    runs = []
    real = scope.classifier.predict_arrays
    monkeypatch.setattr(
        scope.classifier, "predict_arrays", lambda batch, **kw: runs.append(len(batch)) or real(batch, **kw)
    )
    rows = list(classify_stream([tmp_path], get_classifier(info, "cpu"), scope=scope))
    assert runs == [] and rows[0].in_scope is None and "Too small" in rows[0].scope.reason
    verdicts = scope.check_arrays(np.zeros((2, 224, 224, 3), np.float32), sizes=[(32, 32), (300, 200)])
    assert runs == [1] and verdicts[0].in_scope is None and verdicts[1].in_scope is not None


def test_a_cancelled_run_stops_the_scope_check_too(registry: ModelRegistry) -> None:
    import threading

    import numpy as np

    from desktop_app.engine.classifier import InferenceCancelled, add_second_opinion, make_prediction

    scope = second_opinion_for(registry.get("vgg"), registry.models, "cpu")
    cancel = threading.Event()
    cancel.set()
    row = make_prediction("a.jpg", np.full(10, 0.1, np.float32), registry.get("vgg").labels, threshold=0.5)
    with pytest.raises(InferenceCancelled):
        add_second_opinion([row], scope, [np.zeros((224, 224, 3), np.uint8)], [(300, 300)], cancel=cancel)
    assert row.scope is None
