"""Helpers for the export tests: tiny Keras models, run folders, shared data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from export.backend import require_tensorflow_backend

require_tensorflow_backend()  # before anything here imports Keras

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from export.metadata import CIFAR10_LABELS  # noqa: E402

CIFAR_TARBALL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "cifar10-jpeg.tar.gz"


@pytest.fixture(scope="session")
def cifar_data() -> Path:
    if not CIFAR_TARBALL.is_file():
        pytest.skip("shared CIFAR-10 data not available")
    return CIFAR_TARBALL.resolve()


def small_cnn(num_classes: int = 10, seed: int = 0):
    """A tiny functional CNN following the training API (raw 0..255 in, softmax out, dropout inside)."""
    import keras

    keras.utils.set_random_seed(seed)
    inputs = keras.Input((32, 32, 3), name="image")
    x = keras.layers.Rescaling(1 / 255.0)(inputs)
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu")(x)  # 1,152 weights: float16 stores it
    x = keras.layers.Dropout(0.5)(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dense(16, activation="relu")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    model = keras.Model(inputs, outputs, name="small_cnn")
    # Larger output weights than the default init: confident, varied predictions make parity meaningful.
    kernel, bias = model.get_layer("predictions").get_weights()
    model.get_layer("predictions").set_weights([kernel * 8, bias])
    return model


def make_report(model: str = "deep_cnn", temperature: float | None = None, **extra: Any) -> dict[str, Any]:
    """A report.json as a training run writes it (the training API), with made-up metrics."""
    labels = list(CIFAR10_LABELS)
    matrix = (np.eye(10, dtype=int) * 90 + 1).tolist()
    report: dict[str, Any] = {
        "model": model,
        "display_name": "Test " + model,
        "description": "exported by the export tests",
        "architecture": "tiny",
        "dataset": "CIFAR-10 (JPEG copy)",
        "params": 1234,
        "labels": labels,
        "metrics": {
            "test_accuracy": 0.9,
            "test_loss": 0.31,
            "num_test_images": 990,
            "per_class": {lab: {"precision": 0.9, "recall": 0.91, "f1": 0.905, "support": 99} for lab in labels},
            "confusion_matrix": matrix,
            "val_accuracy": 0.89,
            "val_loss": 0.33,
        },
        "training": {
            "recipe": {"optimizer": "sgd", "lr": 0.1, "augment": ["crop", "flip"]},
            "epochs": 2,
            "duration_s": 12.5,
            "hardware": "CPU",
            "backend": "tensorflow",
            "seed": 0,
            "train_images": 100,
            "val_images": 10,
        },
        "history": {"accuracy": [0.5, 0.6], "val_accuracy": [0.4, 0.5], "loss": [1.0, 0.8], "val_loss": [1.1, 0.9]},
    }
    if temperature is not None:
        report["calibration"] = {"temperature": temperature, "ece_before": 0.05, "ece_after": 0.01}
    report.update(extra)
    return report


def write_run(run_dir: Path, model, report: dict[str, Any]) -> Path:
    """A run folder as ``cifar-train`` leaves it: ``model.weights.h5`` + ``report.json``."""
    from training.reports import write_report

    run_dir.mkdir(parents=True, exist_ok=True)
    model.save_weights(str(run_dir / "model.weights.h5"))
    write_report(run_dir, report)
    return run_dir


def _input_of(model, layer):
    """The tensor, in ``model``'s graph, that feeds the nested model ``layer``."""
    return layer._inbound_nodes[0].input_tensors[0]


def _scale_to_unit(model, x: np.ndarray) -> None:
    for layer in model.layers:
        if isinstance(layer, keras_model_type()):
            _scale_to_unit(layer, np.asarray(probe(model, _input_of(model, layer))(x)))
            continue
        weights = layer.get_weights()
        if not weights or not any(hasattr(layer, k) for k in ("kernel", "depthwise_kernel")):
            continue
        if getattr(layer, "activation", None) is softmax() and len(weights) == 2:
            # Logits: spread ~2 across images around a zero mean, so the top-1 varies per image.
            features = np.asarray(probe(model, layer.input)(x))
            logits = features @ weights[0]
            kernel = weights[0] * (2.0 / max(float((logits - logits.mean(axis=0)).std()), 1e-12))
            layer.set_weights([kernel, -(features @ kernel).mean(axis=0)])
            continue
        std = float(np.asarray(probe(model, layer.output)(x)).std())
        if std > 0:
            layer.set_weights([w / std for w in weights])


def keras_model_type():
    import keras

    return keras.Model


def softmax():
    import keras

    return keras.activations.softmax


def probe(model, tensor):
    import keras

    return keras.Model(model.inputs, tensor)


def lsuv_init(model, images: np.ndarray) -> None:
    """Data-dependent init (LSUV-like): scale each layer's weights so its outputs have unit spread.

    Untrained deep networks shrink their activations layer by layer (the tiny
    EfficientNet-Lite0 down to ~1e-10), so every image gets nearly the same
    probabilities and a parity check would prove little. After this the
    logits spread about 2, so the top-1 and the probabilities differ per image.
    """
    _scale_to_unit(model, np.asarray(images, dtype=np.float32))
