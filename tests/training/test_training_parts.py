"""Pieces of the training loop: augmentation, batches, schedule, EMA, unfreezing, recipes."""

from __future__ import annotations

from dataclasses import replace

import keras
import numpy as np
import pytest

from training.augment import ArrayBatches, Cutout, augmentation_layers, training_wrapper
from training.models import MODEL_NAMES, build_model
from training.recipes import RECIPES, get_recipe
from training.train import ema_for, lr_schedule, unfreeze_backbone


def _np(x) -> np.ndarray:
    return keras.ops.convert_to_numpy(x)


def test_cutout_erases_one_square_in_training_only():
    images = np.full((8, 32, 32, 3), 200.0, np.float32)
    layer = Cutout(8, seed=1)
    erased = _np(layer(images, training=True))
    per_image = (erased[..., 0] == 128.0).sum(axis=(1, 2))
    assert per_image.max() == 64 and per_image.min() > 0  # 8x8, clipped at borders
    assert set(np.unique(erased)) <= {128.0, 200.0}
    np.testing.assert_array_equal(_np(layer(images, training=False)), images)


def _shift(image: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """``image`` moved down by dy and right by dx, zero fill (= pad 4 and crop)."""
    padded = np.pad(image, ((4, 4), (4, 4), (0, 0)))
    return padded[4 - dy : 36 - dy, 4 - dx : 36 - dx]


def test_crop_is_an_integer_shift_with_zero_fill_and_flip_mirrors():
    recipe = get_recipe("deep_cnn", cutout=0)
    crop, flip = augmentation_layers(recipe, seed=0)
    image = np.arange(32 * 32 * 3, dtype=np.float32).reshape(1, 32, 32, 3) + 1
    shifted = _np(crop(np.repeat(image, 16, 0), training=True))
    shifts = {(dy, dx): _shift(image[0], dy, dx) for dy in range(-4, 5) for dx in range(-4, 5)}
    found = [next((k for k, v in shifts.items() if np.array_equal(out, v)), None) for out in shifted]
    assert None not in found  # every output is the image moved by at most 4 px, zeros around
    assert len(set(found)) > 1
    many = _np(crop(np.repeat(image, 400, 0), training=True))
    edges = {(int(m[:, :, 0].any(axis=1).argmax()), int(m[:, :, 0].any(axis=0).argmax())) for m in many}
    assert {dy for dy, _ in edges} == {dx for _, dx in edges} == set(range(5))  # shifts down/right 0..4 seen
    np.testing.assert_array_equal(_np(crop(image, training=False)), image)
    mirrored = _np(flip(np.repeat(image, 16, 0), training=True))
    assert all(np.array_equal(m, image[0]) or np.array_equal(m, image[0, :, ::-1]) for m in mirrored)
    assert not all(np.array_equal(m, image[0]) for m in mirrored)


def test_wrapper_trains_the_base_model_which_has_no_augmentation():
    base = build_model("compact_vgg", num_classes=3, tiny=True)
    wrapper = training_wrapper(base, get_recipe("deep_cnn"), seed=0)
    assert {"crop", "flip", "cutout"} <= {layer.name for layer in wrapper.layers}
    assert not {"crop", "flip", "cutout"} & {layer.name for layer in base.layers}
    assert {id(w) for w in base.trainable_weights} <= {id(w) for w in wrapper.trainable_weights}
    x = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype(np.float32)
    np.testing.assert_allclose(_np(wrapper(x, training=False)), _np(base(x, training=False)), rtol=1e-6)


def test_array_batches_shuffle_one_hot_and_mixup():
    x = np.arange(10, dtype=np.uint8).reshape(10, 1, 1, 1) * np.ones((1, 2, 2, 3), np.uint8)
    y = np.arange(10) % 2
    batches = ArrayBatches(x, y, 2, 4, seed=0)
    assert len(batches) == 2  # the partial batch is dropped
    images, labels = batches[0]
    assert images.dtype == np.float32 and labels.shape == (4, 2)
    np.testing.assert_array_equal(labels.argmax(1), images[:, 0, 0, 0].astype(int) % 2)
    first = batches.order.copy()
    batches.on_epoch_end()
    assert not np.array_equal(first, batches.order)
    mixed = ArrayBatches(x, y, 2, 10, seed=0, mixup_alpha=0.4)
    images, labels = mixed[0]
    np.testing.assert_allclose(labels.sum(1), 1.0, rtol=1e-6)
    assert not np.array_equal(images[:, 0, 0, 0], x[mixed.order, 0, 0, 0].astype(np.float32))


def test_schedule_warms_up_then_decays_to_zero():
    schedule = lr_schedule(0.1, epochs=10, steps=100, warmup_epochs=2)
    values = [float(_np(schedule(step))) for step in (0, 100, 200, 600, 1000)]
    assert values[0] == pytest.approx(0.001)
    assert values[1] == pytest.approx(0.0505, rel=1e-3)
    assert values[2] == pytest.approx(0.1)
    assert values[2] > values[3] > values[4]
    assert values[4] == pytest.approx(0.0, abs=1e-6)
    short = lr_schedule(0.1, epochs=1, steps=5, warmup_epochs=3)  # warm-up capped at a fifth
    assert float(_np(short(1))) == pytest.approx(0.1)


def test_ema_horizon_is_at_most_a_tenth_of_the_run():
    assert ema_for(None, 1000) is None
    assert ema_for(0.999, 200_000) == 0.999
    assert ema_for(0.999, 1000) == pytest.approx(0.99)
    assert ema_for(0.999, 5) == 0.0


def test_unfreezing_the_top_of_the_backbone_keeps_batchnorm_frozen():
    model = build_model("resnet50", num_classes=3, tiny=True)
    head = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    unfreeze_backbone(model, 33)
    backbone = model.get_layer("backbone")
    trainable = [layer for layer in backbone.layers if layer.trainable and layer.weights]
    assert trainable and all(layer.name.startswith("conv5") for layer in trainable)
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in trainable)
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) > head


def test_every_model_has_a_recipe_with_the_basics():
    assert set(RECIPES) == set(MODEL_NAMES)
    for name, recipe in RECIPES.items():
        assert recipe.crop_padding == 4 and recipe.flip and recipe.label_smoothing > 0, name
        assert recipe.weight_decay > 0 and recipe.warmup_epochs > 0 and recipe.why, name
    assert get_recipe("vgg", epochs=3, batch_size=None).epochs == 3
    assert get_recipe("vgg", batch_size=None).batch_size == RECIPES["vgg"].batch_size
    with pytest.raises(ValueError, match="unknown model"):
        get_recipe("lenet")


def test_efficientnet_fine_tune_can_train_batchnorm_with_batch_statistics():
    model = build_model("efficientnet_lite0", num_classes=3, tiny=True, backbone_weights=None)
    frozen = build_model("efficientnet_lite0", num_classes=3, tiny=True, backbone_weights=None)
    unfreeze_backbone(frozen, None)
    unfreeze_backbone(model, None, train_batchnorm=True)
    norms = [
        layer for layer in model.get_layer("backbone").layers if isinstance(layer, keras.layers.BatchNormalization)
    ]
    assert norms and all(layer.trainable and layer.batch_statistics for layer in norms)
    assert len(model.trainable_weights) == len(frozen.trainable_weights) + 2 * len(norms)  # gamma and beta
    images = np.random.default_rng(0).uniform(0, 255, (4, 32, 32, 3)).astype(np.float32)
    model.get_layer("dropout").rate = 0.0
    training, inference = _np(model(images, training=True)), _np(model(images, training=False))
    assert not np.allclose(training, inference, atol=1e-4)  # batch statistics differ from the moving ones


def test_fine_tune_phase_takes_its_own_weight_decay():
    from training.train import _phases

    recipe = get_recipe("efficientnet_lite0", weight_decay=0.05, fine_tune_weight_decay=1e-3)
    head, tune = _phases("efficientnet_lite0", recipe)
    assert (head.weight_decay, tune.optimizer, tune.weight_decay) == (0.05, "sgd", 1e-3)
    (train,) = _phases("deep_cnn", get_recipe("deep_cnn", weight_decay=5e-3))[:1]
    assert train.weight_decay == 5e-3
    without = replace(get_recipe("efficientnet_lite0", weight_decay=0.02), fine_tune_weight_decay=None)
    assert _phases("efficientnet_lite0", without)[1].weight_decay == 0.02


def test_only_the_fine_tune_phase_clips_gradients():
    from training.train import _phases

    head, tune = _phases("efficientnet_lite0", get_recipe("efficientnet_lite0", fine_tune_clipnorm=2.5))
    assert (head.clipnorm, tune.clipnorm) == (None, 2.5)
    (train,) = _phases("deep_cnn", get_recipe("deep_cnn", fine_tune_clipnorm=2.5))
    assert train.clipnorm is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("fine_tune_batchnorm=off", ("fine_tune_batchnorm", False)),
        ("fine-tune-batchnorm=True", ("fine_tune_batchnorm", True)),
        ("learning_rate=0.05", ("learning_rate", 0.05)),
        ("epochs=3", ("epochs", 3)),
        ("fine_tune_clipnorm=1", ("fine_tune_clipnorm", 1.0)),
        ("ema_momentum=none", ("ema_momentum", None)),
        ("fine_tune_layers=None", ("fine_tune_layers", None)),
        ("optimizer=adamw", ("optimizer", "adamw")),
    ],
)
def test_a_recipe_setting_is_typed_like_its_field(text, expected):
    from training.recipes import parse_setting

    key, value = parse_setting(text)
    assert (key, value) == expected and type(value) is type(expected[1])


@pytest.mark.parametrize(
    "text, message",
    [
        ("epochs", "expected KEY=VALUE"),
        ("lr=0.1", "expected KEY=VALUE with KEY one of epochs"),
        ("why=because", "expected KEY=VALUE"),
        ("epochs=ten", "'ten' is not a valid int"),
        ("epochs=none", "'none' is not a valid int"),
        ("flip=maybe", "'maybe' is not a valid bool"),
    ],
)
def test_a_bad_recipe_setting_is_refused_with_the_reason(text, message):
    from training.recipes import parse_setting

    with pytest.raises(ValueError, match=message):
        parse_setting(text)


def test_clipnorm_bounds_each_step_of_the_optimizer():
    from training.train import make_optimizer

    variable = keras.Variable(np.zeros(4, dtype="float32"))
    huge = keras.ops.convert_to_tensor(np.full(4, 1e6, dtype="float32"))
    clipped = make_optimizer("sgd", 0.1, 0.0, None, clipnorm=1.0)
    clipped.apply_gradients([(huge, variable)])
    assert np.linalg.norm(keras.ops.convert_to_numpy(variable)) <= 0.1 * (1 + 0.9) * 1.0 * 1.0001  # Nesterov step
    free = keras.Variable(np.zeros(4, dtype="float32"))
    make_optimizer("sgd", 0.1, 0.0, None).apply_gradients([(huge, free)])
    assert np.linalg.norm(keras.ops.convert_to_numpy(free)) > 1e4


def test_a_diverged_fit_stops_after_the_epoch_and_keeps_the_best_weights(tmp_path):
    from training.callbacks import BestWeights, StopOnNaN

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="categorical_crossentropy", metrics=["accuracy"])
    x = np.array([[1.0, 0.0], [0.0, 1.0]] * 8, dtype="float32")
    y = np.array([[1.0, 0.0], [0.0, 1.0]] * 8, dtype="float32")
    checkpoint = BestWeights(model, tmp_path / "best.weights.h5")
    model.fit(x, y, epochs=2, validation_data=(x, y), callbacks=[StopOnNaN(), checkpoint], verbose=0)
    path = tmp_path / "best.weights.h5"

    def saved() -> list[np.ndarray]:
        copy = keras.models.clone_model(model)
        copy.load_weights(str(path))
        return [keras.ops.convert_to_numpy(w) for w in copy.weights]

    good = saved()
    stop = StopOnNaN()
    bad = np.full_like(x, np.nan)
    history = model.fit(bad, y, epochs=5, validation_data=(x, y), callbacks=[stop, checkpoint], verbose=0)
    assert stop.stopped_epoch == 1 and len(history.history["loss"]) == 1
    assert np.isnan(keras.ops.convert_to_numpy(model.weights[0])).all()  # it did diverge
    assert all(np.array_equal(w, g) for w, g in zip(saved(), good))
