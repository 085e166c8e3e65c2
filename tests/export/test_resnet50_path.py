"""Issue 8: ResNet50's whole path with a stand-in backbone weights file (no ImageNet download here).

build with a local backbone weights file -> train a few steps -> run folder -> export -> check.
"""

from __future__ import annotations

import numpy as np
import pytest

from export.cli import main
from export.metadata import read_metadata
from tests.export.conftest import make_report, write_run


def stand_in_backbone(path, resolution: int):
    """A random ResNet50 without top, saved the way a real local weights file would be."""
    import keras

    keras.utils.set_random_seed(1)
    backbone = keras.applications.ResNet50(include_top=False, weights=None, input_shape=(resolution, resolution, 3))
    backbone.save_weights(str(path))
    return backbone


def train_few_steps(model, steps: int = 2) -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (16 * steps, 32, 32, 3)).astype(np.float32)
    y = rng.integers(0, 10, 16 * steps)
    # Eager: tracing a graph for two steps would cost more than the steps.
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", run_eagerly=True)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)


def test_tiny_resnet50_with_local_backbone_trains_exports_and_checks(tmp_path, capsys) -> None:
    from training.models import build_model

    weights = tmp_path / "resnet50_backbone.weights.h5"
    reference = stand_in_backbone(weights, 64)
    model = build_model("resnet50", tiny=True, backbone_weights=weights)
    backbone = model.get_layer("backbone")
    np.testing.assert_array_equal(backbone.get_weights()[0], reference.get_weights()[0])  # the file was loaded
    head_before = model.get_layer("classification").get_weights()[0].copy()
    train_few_steps(model)
    assert not np.allclose(model.get_layer("classification").get_weights()[0], head_before)
    np.testing.assert_array_equal(backbone.get_weights()[0], reference.get_weights()[0])  # frozen

    run = write_run(tmp_path / "runs" / "resnet50", model, make_report("resnet50", temperature=1.3))
    out = tmp_path / "resnet50.onnx"
    assert main([str(run), "--out", str(out), "--tiny"]) == 0
    printed = capsys.readouterr().out
    assert "baking temperature T=1.3000" in printed and "parity passed on 256 images" in printed
    assert main(["check", str(out)]) == 0
    assert capsys.readouterr().out.startswith("OK: resnet50.onnx")
    assert read_metadata(out)["training"]["calibration"]["temperature"] == 1.3


@pytest.mark.slow
def test_full_size_resnet50_through_the_training_cli(tmp_path, cifar_data, capsys) -> None:
    from training.cli import main as train_main

    weights = tmp_path / "resnet50_backbone.weights.h5"
    stand_in_backbone(weights, 224)
    run = tmp_path / "runs" / "resnet50"
    assert (
        train_main(
            [
                "train",
                "resnet50",
                "--backbone-weights",
                str(weights),
                "--data",
                str(cifar_data),
                "--limit",
                "50",
                "--epochs",
                "1",
                "--fine-tune-epochs",
                "0",
                "--batch-size",
                "8",
                "--out",
                str(run),
            ]
        )
        == 0
    )
    out = tmp_path / "resnet50.onnx"
    assert main([str(run), "--out", str(out)]) == 0
    assert main(["check", str(out)]) == 0
    assert "OK: resnet50.onnx" in capsys.readouterr().out
