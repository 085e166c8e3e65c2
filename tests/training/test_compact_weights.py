"""Compact weights files (float16 / int8 storage for the trip back from the GPU machine)."""

from __future__ import annotations

import h5py
import numpy as np

from training.compact_weights import compact, restore
from training.models import build_model


def _weights_file(tmp_path):
    model = build_model("vgg", num_classes=10, tiny=True)
    path = tmp_path / "model.weights.h5"
    model.save_weights(str(path))
    return model, path


def test_float16_round_trip_loads_and_predicts_like_the_original(tmp_path):
    model, path = _weights_file(tmp_path)
    small = compact(path, tmp_path / "small.h5", float16_min=1000)
    assert small.stat().st_size < 0.7 * path.stat().st_size
    back = restore(small, tmp_path / "back.weights.h5")
    clone = build_model("vgg", num_classes=10, tiny=True)
    clone.load_weights(str(back))
    for original, restored in zip(model.get_weights(), clone.get_weights()):
        assert restored.dtype == original.dtype
        np.testing.assert_allclose(restored, original, rtol=2**-11, atol=1e-7)
    images = np.random.default_rng(0).uniform(0, 255, (8, 32, 32, 3)).astype(np.float32)
    np.testing.assert_allclose(clone.predict(images, verbose=0), model.predict(images, verbose=0), atol=1e-3)


def test_int8_keeps_each_output_units_error_within_half_a_step(tmp_path):
    model, path = _weights_file(tmp_path)
    small = compact(path, tmp_path / "small.h5", int8_min=50_000)
    with h5py.File(small) as handle:
        kinds = []
        handle.visititems(lambda name, obj: kinds.append(obj.dtype) if isinstance(obj, h5py.Dataset) else None)
    assert np.dtype("int8") in kinds and np.dtype("float32") in kinds  # big kernels int8, small arrays kept
    clone = build_model("vgg", num_classes=10, tiny=True)
    clone.load_weights(str(restore(small, tmp_path / "back.weights.h5")))
    quantised = 0
    for original, restored in zip(model.get_weights(), clone.get_weights()):
        if original.size >= 50_000:
            quantised += 1
            step = np.abs(original.reshape(-1, original.shape[-1])).max(axis=0) / 127
            assert np.all(np.abs(restored - original).reshape(-1, original.shape[-1]) <= step / 2 + 1e-7)
        else:
            np.testing.assert_array_equal(restored, original)
    assert quantised > 0
