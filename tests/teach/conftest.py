"""Fixtures for teaching: the general model (real when shipped, else a stand-in) and class folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.teach.factory import make_backbone, make_class_folders

SHIPPED_GENERAL = REPO_ROOT / "assets" / "models" / "efficientnet_lite0_imagenet.onnx"


@pytest.fixture(scope="session")
def backbone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped ImageNet general model when the checkout has it, else the small stand-in."""
    if SHIPPED_GENERAL.is_file():
        return SHIPPED_GENERAL
    return make_backbone(tmp_path_factory.mktemp("general") / "general.onnx")


@pytest.fixture(scope="session")
def stand_in(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Always the stand-in (fast tests of failure paths that need no real features)."""
    return make_backbone(tmp_path_factory.mktemp("stand_in") / "general.onnx", float16_head=True)


@pytest.fixture()
def class_folders(tmp_path: Path) -> Path:
    return make_class_folders(tmp_path / "photos")


@pytest.fixture(scope="session")
def taught(tmp_path_factory: pytest.TempPathFactory, backbone: Path):  # type: ignore[no-untyped-def]
    """A model taught once from generated folders, shared by the read-only tests."""
    from desktop_app.engine.teach import teach

    root = make_class_folders(tmp_path_factory.mktemp("taught") / "photos")
    return teach(root, root.parent / "fruit.onnx", name="Fruit and sky", backbone=backbone)
