"""The study's architectures: parameter counts layer by layer, forward passes, the registry."""

from __future__ import annotations

import numpy as np
import pytest

from training.models import MODEL_NAMES, build_model, get_spec

#: Parameters of every layer that has any, as in STUDY.md (BatchNorm: 4 x filters).
STUDY_LAYERS = {
    "deep_cnn": {
        "block1_conv1": 2_432,
        "block1_bn": 128,
        "block1_conv2": 9_248,
        "block2_conv1": 18_496,
        "block2_bn": 256,
        "block2_conv2": 36_928,
        "block3_conv1": 73_856,
        "block3_bn": 512,
        "block3_conv2": 147_584,
        "block4_conv1": 295_168,
        "block4_bn": 1_024,
        "block4_conv2": 590_080,
        "block5_conv1": 1_180_160,
        "block5_bn": 2_048,
        "block5_conv2": 2_359_808,
        "dense1": 525_312,
        "dense2": 524_800,
        "predictions": 5_130,
    },
    "vgg": {
        "block1_conv1": 1_792,
        "block1_bn1": 256,
        "block1_conv2": 36_928,
        "block1_bn2": 256,
        "block2_conv1": 73_856,
        "block2_bn1": 512,
        "block2_conv2": 147_584,
        "block2_bn2": 512,
        "block3_conv1": 295_168,
        "block3_bn1": 1_024,
        "block3_conv2": 590_080,
        "block3_bn2": 1_024,
        "block4_conv1": 1_180_160,
        "block4_bn1": 2_048,
        "block4_conv2": 2_359_808,
        "block4_bn2": 2_048,
        "block5_conv1": 2_359_808,
        "block5_bn1": 2_048,
        "block5_conv2": 2_359_808,
        "block5_bn2": 2_048,
        "dense1": 2_101_248,
        "dense2": 16_781_312,
        "predictions": 40_970,
    },
    "compact_vgg": {"conv1": 896, "conv2": 18_496, "conv3": 73_856, "dense": 262_272, "predictions": 1_290},
    "resnet50": {"backbone": 23_587_712, "dense1": 2_098_176, "dense2": 524_800, "classification": 5_130},
}
STUDY_TOTALS = {"deep_cnn": 5_772_970, "vgg": 28_340_298, "compact_vgg": 356_810, "resnet50": 26_215_818}


@pytest.fixture(scope="module")
def full_models():
    """Each full-size model built once (TensorFlow is slow to build the big ones)."""
    cache: dict = {}

    def get(name: str):
        if name not in cache:
            if name == "efficientnet_lite0":
                pytest.importorskip("training.models.efficientnet_lite0")
            cache[name] = build_model(name)
        return cache[name]

    return get


@pytest.mark.parametrize("name", sorted(STUDY_LAYERS))
def test_parameters_per_layer_and_total_match_the_study(full_models, name):
    model = full_models(name)
    counted = {layer.name: layer.count_params() for layer in model.layers if layer.count_params()}
    assert counted == STUDY_LAYERS[name]
    assert model.count_params() == STUDY_TOTALS[name] == get_spec(name).study_params


def test_resnet50_trains_only_its_head_at_first(full_models):
    model = full_models("resnet50")
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert trainable == 2_628_106  # the study's trainable head
    assert model.get_layer("backbone").trainable is False
    assert model.get_layer("backbone").input_shape[1:3] == (224, 224)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_forward_pass_of_every_full_size_model(full_models, name):
    model = full_models(name)
    assert model.input_shape == (None, 32, 32, 3)
    assert model.inputs[0].name.startswith("image") or model.layers[0].name == "image"
    assert model.layers[-1].get_config()["activation"] == "softmax"
    images = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype(np.float32)
    probs = np.asarray(model.predict_on_batch(images))
    assert probs.shape == (2, 10) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_models_normalise_inside():
    """Raw 0..255 pixels go in; the Rescaling layer (weightless) brings them to 0..1."""
    model = build_model("compact_vgg", tiny=True)
    assert model.get_layer("rescale").scale == pytest.approx(1 / 255)
    assert model.get_layer("rescale").count_params() == 0


def test_tiny_models_keep_the_layer_structure(full_models):
    for name in ("deep_cnn", "vgg", "compact_vgg"):
        full, tiny = full_models(name), build_model(name, tiny=True)
        assert [layer.__class__ for layer in full.layers] == [layer.__class__ for layer in tiny.layers]
        assert tiny.count_params() < full.count_params() / 10


def test_registry_rejects_unknown_names_and_misplaced_weights():
    with pytest.raises(ValueError, match="unknown model 'resnet18'.*deep_cnn, vgg, compact_vgg, resnet50"):
        get_spec("resnet18")
    with pytest.raises(ValueError, match="unknown model"):
        build_model("resnet18")
    with pytest.raises(ValueError, match="no backbone"):
        build_model("deep_cnn", backbone_weights="weights.h5")
    assert "VGG16" in get_spec("compact_vgg").description
    assert get_spec("resnet50").transfer and not get_spec("deep_cnn").transfer


def test_specs_are_the_one_registry_with_their_builders():
    """MODEL_NAMES comes from the specs, each spec names an importable builder, and every
    model module in training/models/ is registered (export imports them through the specs)."""
    from pathlib import Path

    import training.models as models

    assert tuple(models._SPECS) == MODEL_NAMES
    for name in MODEL_NAMES:
        spec = get_spec(name)
        module, function = spec.builder.split(":")
        assert callable(spec.build_function()) and function.startswith("build_")
        assert module.startswith("training.models.")
    folder = Path(models.__file__).parent
    modules = {p.stem for p in folder.glob("*.py") if p.stem != "__init__"}
    assert modules == {get_spec(n).builder.split(":")[0].rsplit(".", 1)[1] for n in MODEL_NAMES}
    assert models.import_model_modules() == []
