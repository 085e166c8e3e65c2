"""Image Classifier: a desktop app that classifies images with ONNX models."""

from __future__ import annotations

APP_NAME = "Image Classifier"
ORGANIZATION = "cifar-image-classifier"

try:
    from importlib.metadata import PackageNotFoundError, version

    __version__ = version("cifar-image-classifier")
except PackageNotFoundError:  # running from a source tree or a frozen bundle
    __version__ = "0.1.0"
