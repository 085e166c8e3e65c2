"""Image Classifier: a desktop app that classifies images with ONNX models."""

from __future__ import annotations

APP_NAME = "Image Classifier"
ORGANIZATION = "cifar-image-classifier"


def __getattr__(name: str) -> str:
    """``__version__`` on first use: ``importlib.metadata`` costs ~50 ms, too much for every command-line start."""
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        value = version("cifar-image-classifier")
    except PackageNotFoundError:  # running from a source tree or a frozen bundle
        value = "0.1.0"
    globals()["__version__"] = value
    return value
