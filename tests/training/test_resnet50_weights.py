"""ResNet50 loads a local backbone weights file (a random stand-in for ImageNet's)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from training.models import build_model


def test_backbone_weights_file_is_loaded(standin_backbone_weights):
    path, first, last = standin_backbone_weights
    keras.utils.set_random_seed(0)  # a different random init than the file's
    model = build_model("resnet50", tiny=True, backbone_weights=path)
    backbone = model.get_layer("backbone")
    for loaded, expected in zip(backbone.weights[:3], first):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(loaded), expected)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(backbone.weights[-1]), last)
    assert backbone.trainable is False


def test_missing_backbone_weights_file_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="backbone weights file not found"):
        build_model("resnet50", tiny=True, backbone_weights=tmp_path / "missing.weights.h5")
