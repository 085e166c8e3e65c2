"""Fixtures shared by every test package."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# Qt must never need a screen in tests; set before anything imports PySide6.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The model metadata cache (engine/model_cache.py) goes to a temporary folder, not the user's.
os.environ.setdefault("IMAGE_CLASSIFIER_CACHE_DIR", tempfile.mkdtemp(prefix="image-classifier-cache-"))
# The user's models folder (taught models; the window scans it at start) too.
os.environ.setdefault("IMAGE_CLASSIFIER_DATA", tempfile.mkdtemp(prefix="image-classifier-data-"))

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"
REAL_PHOTOS = SHARED / "data" / "real-photos"
CIFAR_TARBALL = SHARED / "data" / "cifar10-jpeg.tar.gz"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def colour_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A valid three-class ONNX model (red / green / blue) in its own folder."""
    from tests.model_factory import make_classifier

    return make_classifier(tmp_path_factory.mktemp("models") / "colours.onnx")
