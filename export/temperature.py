"""Bake a calibration temperature into a Keras classifier.

With temperature ``T`` the model outputs ``softmax(logits / T)``, where the
logits are the final Dense layer's pre-activation. The head is rebuilt (a
linear clone of the last Dense with the same weights, a division by ``T``, a
Softmax) so the exported probabilities are the calibrated ones the app shows.
"""

from __future__ import annotations

import math

from export.backend import require_tensorflow_backend

require_tensorflow_backend()

import keras  # noqa: E402

from export.convert import ExportError  # noqa: E402


def _logits_source(model: keras.Model) -> tuple[keras.layers.Dense, object]:
    """The Dense layer whose pre-activation are the logits, and the tensor it reads."""
    last = model.layers[-1]
    if isinstance(last, keras.layers.Dense):
        if last.activation is not keras.activations.softmax:
            raise ExportError(f"the last layer '{last.name}' is a Dense without softmax; cannot find the logits")
        return last, last.input
    softmax_layer = isinstance(last, keras.layers.Softmax) or (
        isinstance(last, keras.layers.Activation) and last.activation is keras.activations.softmax
    )
    if softmax_layer and isinstance(model.layers[-2], keras.layers.Dense):
        dense = model.layers[-2]
        if dense.activation is not keras.activations.linear:
            raise ExportError(f"layer '{dense.name}' before the softmax is not linear; cannot find the logits")
        return dense, dense.input
    raise ExportError(
        f"cannot find the logits: the last layer '{last.name}' is a {type(last).__name__}, not Dense(softmax)"
    )


def with_temperature(model: keras.Model, temperature: float | None) -> keras.Model:
    """Return a model that outputs ``softmax(logits / temperature)``.

    ``None`` or 1.0 returns ``model`` itself (nothing to change).
    """
    if temperature is None or temperature == 1.0:
        return model
    if not (math.isfinite(temperature) and temperature > 0):
        raise ExportError(f"temperature must be a positive number, got {temperature}")
    dense, features = _logits_source(model)
    logits_layer = keras.layers.Dense(
        dense.units, activation=None, use_bias=dense.use_bias, name=f"{dense.name}_logits"
    )
    logits = logits_layer(features)
    logits_layer.set_weights(dense.get_weights())
    scaled = keras.layers.Rescaling(1.0 / float(temperature), name="temperature")(logits)
    probabilities = keras.layers.Softmax(name="calibrated_softmax")(scaled)
    return keras.Model(model.inputs, probabilities, name=f"{model.name}_calibrated")
