"""The study's ResNet50 transfer model: 26,215,818 parameters.

32x32 input -> UpSampling2D(x7) to 224x224 -> ResNet50's own ("caffe")
preprocessing -> ResNet50 without its top, one nested layer named
"backbone", called with ``training=False`` so its BatchNorm statistics stay
frozen -> GlobalAveragePooling2D -> Flatten -> Dense(1024) -> Dense(512) ->
Dense(10, softmax, named "classification") as in the study. The backbone
starts frozen; :func:`training.train` may unfreeze its top for fine-tuning.
"""

from __future__ import annotations

from pathlib import Path

import keras
from keras import layers, ops

#: Per-channel BGR means of ImageNet that ``keras.applications.resnet50.preprocess_input`` subtracts.
CAFFE_BGR_MEAN = (103.939, 116.779, 123.68)


@keras.saving.register_keras_serializable(package="training")
class CaffePreprocess(layers.Layer):
    """RGB 0..255 -> BGR minus the ImageNet mean (what ResNet50's weights expect).

    A weightless layer instead of a Lambda so the model serialises and
    exports (a Gather and a Sub in ONNX).
    """

    def call(self, inputs):
        bgr = ops.take(inputs, [2, 1, 0], axis=-1)
        return bgr - ops.convert_to_tensor(CAFFE_BGR_MEAN, dtype=bgr.dtype)


def build_backbone(resolution: int, weights: str | Path | None) -> keras.Model:
    """ResNet50 without top; ``weights``: None, "imagenet" or a local weights file."""
    online = weights == "imagenet"
    backbone = keras.applications.ResNet50(
        include_top=False,
        weights="imagenet" if online else None,
        input_shape=(resolution, resolution, 3),
        name="backbone",
    )
    if weights is not None and not online:
        path = Path(weights)
        if not path.is_file():
            raise FileNotFoundError(f"backbone weights file not found: {path}")
        backbone.load_weights(str(path))
    backbone.trainable = False
    return backbone


def build_resnet50(
    *, num_classes: int = 10, tiny: bool = False, backbone_weights: str | Path | None = None
) -> keras.Model:
    """Raw 0..255 RGB 32x32 in, class probabilities out.

    ``tiny`` upsamples only x2 (64x64 backbone input) and narrows the head,
    so tests can train it in seconds; the backbone keeps its real layers.
    """
    scale = 2 if tiny else 7
    div = 16 if tiny else 1
    inputs = keras.Input((32, 32, 3), name="image")
    x = layers.UpSampling2D(scale, name="upsample")(inputs)
    x = CaffePreprocess(name="caffe_preprocess")(x)
    x = build_backbone(32 * scale, backbone_weights)(x, training=False)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(1024 // div, activation="relu", name="dense1")(x)
    x = layers.Dense(512 // div, activation="relu", name="dense2")(x)
    outputs = layers.Dense(num_classes, activation="softmax", dtype="float32", name="classification")(x)
    return keras.Model(inputs, outputs, name="resnet50")
