"""Load the build helpers in ``packaging/`` by file path.

``packaging/`` is deliberately not a Python package: a regular package named
``packaging`` would shadow the PyPI library of that name for everything that
runs from the repository root.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGING_DIR = REPO_ROOT / "packaging"


def load_packaging_module(name: str) -> ModuleType:
    """Import ``packaging/<name>.py`` under a private module name."""
    module_name = f"_packaging_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, PACKAGING_DIR / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def prune_module() -> ModuleType:
    return load_packaging_module("prune")


@pytest.fixture(scope="session")
def check_module() -> ModuleType:
    return load_packaging_module("check_bundle")


@pytest.fixture(scope="session")
def icons_module() -> ModuleType:
    return load_packaging_module("make_icons")
