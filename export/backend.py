"""Make sure Keras runs on TensorFlow here: tf2onnx converts TensorFlow graphs.

Weights trained on any backend (JAX on the GPU machine) load into the
TensorFlow backend because ``.weights.h5`` files are backend-neutral.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def require_tensorflow_backend() -> None:
    """Select the TensorFlow backend, or fail clearly if Keras already uses another.

    Must run before the first ``import keras`` to take effect; every export
    module that imports Keras calls it at import time.
    """
    if "keras" not in sys.modules:
        os.environ["KERAS_BACKEND"] = "tensorflow"
        return
    import keras

    backend = keras.backend.backend()
    if backend != "tensorflow":
        raise RuntimeError(
            f"the export needs the Keras TensorFlow backend, but Keras was already imported with '{backend}'; "
            "run the export in its own process (KERAS_BACKEND=tensorflow)"
        )
