"""What the run executes on: backend, accelerator, hardware text, dtype policy.

Backend-agnostic: TensorFlow is only consulted when Keras already runs on
it (``sys.modules``), so the JAX machine without TensorFlow works unchanged.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

import keras

from desktop_app.engine.machine import cpu_name


def accelerator_name() -> str | None:
    """The GPU Keras computes on, or None on the CPU."""
    backend = keras.backend.backend()
    try:
        if backend == "jax":
            import jax

            device = jax.devices()[0]
            return device.device_kind if device.platform == "gpu" else None
        if backend == "tensorflow":
            tf = sys.modules["tensorflow"]
            gpus = tf.config.list_physical_devices("GPU")
            if gpus:
                return tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU")
            return None
        if backend == "torch":
            import torch

            return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except Exception:  # a broken driver must not stop a CPU run
        return None
    return None


def hardware_description() -> str:
    """E.g. "NVIDIA H100 80GB HBM3 (jax)" or "CPU: Intel Xeon ... x2 (tensorflow)"."""
    gpu = accelerator_name()
    where = gpu if gpu else f"CPU: {cpu_name()} x{os.cpu_count()}"
    return f"{where} ({keras.backend.backend()})"


def compute_policy(mixed_precision: bool) -> str:
    """ "mixed_bfloat16" on a GPU when the recipe allows it, else "float32"."""
    return "mixed_bfloat16" if mixed_precision and accelerator_name() else "float32"


@contextlib.contextmanager
def dtype_policy(name: str) -> Iterator[None]:
    """Build models under a global dtype policy, restoring the previous one after."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)
