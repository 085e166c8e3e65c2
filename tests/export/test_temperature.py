"""Temperature baking: the exported graph outputs softmax(logits / T)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from export.convert import ExportError
from export.parity import generated_images
from export.temperature import with_temperature
from tests.export.conftest import small_cnn


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.fixture(scope="module")
def model():
    return small_cnn()


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    return generated_images(64)


def test_no_temperature_or_one_leaves_the_model_alone(model) -> None:
    assert with_temperature(model, None) is model
    assert with_temperature(model, 1.0) is model


def test_rebuilt_head_at_t_near_one_gives_the_same_outputs(model, images) -> None:
    rebuilt = with_temperature(model, 1.0 + 1e-7)
    assert rebuilt is not model
    np.testing.assert_allclose(np.asarray(rebuilt(images)), np.asarray(model(images)), atol=1e-6)


@pytest.mark.parametrize("temperature", [2.0, 0.5])
def test_probabilities_are_softmax_of_scaled_log_probabilities(model, images, temperature: float) -> None:
    p = np.asarray(model(images), dtype=np.float64)
    q = np.asarray(with_temperature(model, temperature)(images), dtype=np.float64)
    np.testing.assert_allclose(q, softmax(np.log(p) / temperature), atol=1e-5)
    assert (q.argmax(1) == p.argmax(1)).all()  # temperature never changes the top-1
    flatter = q.max(1) < p.max(1) if temperature > 1 else q.max(1) > p.max(1)
    assert flatter.mean() > 0.9


@pytest.mark.parametrize("bad", [0.0, -1.0, math.nan, math.inf])
def test_invalid_temperature_is_refused(model, bad: float) -> None:
    with pytest.raises(ExportError, match="positive"):
        with_temperature(model, bad)


def test_model_without_softmax_head_is_refused() -> None:
    import keras

    inputs = keras.Input((32, 32, 3), name="image")
    x = keras.layers.GlobalAveragePooling2D()(inputs)
    linear = keras.Model(inputs, keras.layers.Dense(3)(x))
    with pytest.raises(ExportError, match="logits"):
        with_temperature(linear, 2.0)


def test_separate_softmax_layer_is_supported(images) -> None:
    import keras

    inputs = keras.Input((32, 32, 3), name="image")
    x = keras.layers.GlobalAveragePooling2D()(keras.layers.Rescaling(1 / 255)(inputs))
    logits = keras.layers.Dense(4, kernel_initializer=keras.initializers.RandomNormal(stddev=5.0, seed=1))(x)
    model = keras.Model(inputs, keras.layers.Softmax()(logits))
    p = np.asarray(model(images), dtype=np.float64)
    q = np.asarray(with_temperature(model, 3.0)(images), dtype=np.float64)
    np.testing.assert_allclose(q, softmax(np.log(p) / 3.0), atol=1e-5)
