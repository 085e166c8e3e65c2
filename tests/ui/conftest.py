"""Fixtures for the UI tests: isolated QSettings, two real colour models, test images.

QSettings go to a fresh INI folder under ``tmp_path`` for every test, so no
test reads or writes the user's real settings and tests never see each
other's. The models are real ONNX files from ``tests/model_factory.py``:
"Colour A" classifies by colour, "Colour B (swapped)" has the red and blue
weights swapped, so switching models visibly changes the bars.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("PySide6")

from tests.teach.conftest import backbone  # noqa: E402, F401 - the real general model (or a stand-in) for teach tests

pytest.importorskip("pytestqt")

from PySide6.QtCore import QSettings  # noqa: E402

from tests.model_factory import colour_metadata, make_classifier  # noqa: E402

COLOURS = {"red": (255, 0, 0), "green": (0, 255, 0), "blue": (0, 0, 255)}
SWAP_RED_BLUE = np.array([[0, 0, 1], [0, 1, 0], [1, 0, 0]], dtype=np.float32)


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path) -> Path:
    folder = tmp_path / "qsettings"
    folder.mkdir()
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    for fmt in (QSettings.Format.IniFormat, QSettings.Format.NativeFormat):
        for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
            QSettings.setPath(fmt, scope, str(folder))
    return folder


@pytest.fixture(scope="session")
def two_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding "Colour A" (normal) and "Colour B (swapped)" (red <-> blue)."""
    folder = tmp_path_factory.mktemp("ui-models")
    make_classifier(folder / "colour_a.onnx", metadata=colour_metadata(display_name="Colour A"))
    meta_b = colour_metadata(display_name="Colour B (swapped)")
    meta_b["metrics"]["test_accuracy"] = 0.5
    make_classifier(folder / "colour_b.onnx", weights=SWAP_RED_BLUE, metadata=meta_b)
    return folder


@pytest.fixture(scope="session")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One solid PNG per colour (not square, to exercise aspect handling)."""
    folder = tmp_path_factory.mktemp("ui-images")
    paths = {}
    for name, rgb in COLOURS.items():
        paths[name] = folder / f"{name}.png"
        Image.new("RGB", (48, 32), rgb).save(paths[name])
    return paths


@pytest.fixture()
def batch_folder(tmp_path: Path) -> Path:
    """Five readable images (one in a sub-folder) and one corrupt file."""
    folder = tmp_path / "batch"
    (folder / "sub").mkdir(parents=True)
    for i, name in enumerate(["red", "green", "blue", "red"]):
        Image.new("RGB", (20 + i, 16), COLOURS[name]).save(folder / f"{i}_{name}.png")
    Image.new("RGB", (16, 16), COLOURS["blue"]).save(folder / "sub" / "deep_blue.jpg")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a JPEG")
    return folder


@pytest.fixture(scope="session")
def many_images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Enough tiny images that a batch on the slow model runs for seconds."""
    folder = tmp_path_factory.mktemp("ui-many")
    rng = np.random.default_rng(0)
    for i in range(1500):
        Image.fromarray(rng.integers(0, 255, (6, 6, 3), dtype=np.uint8)).save(folder / f"img_{i:05d}.png")
    return folder


@pytest.fixture(scope="session")
def slow_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real model with a large input (every image is resized to 384 x 384), so batches take time."""
    folder = tmp_path_factory.mktemp("ui-slow")
    make_classifier(folder / "slow.onnx", size=(384, 384), metadata=colour_metadata(display_name="Slow colour model"))
    return folder


@pytest.fixture()
def make_window(qtbot, two_models: Path):  # noqa: ANN001, ANN201
    """Factory for real main windows (models loaded); closed at the end of the test."""
    from desktop_app.ui.main_window import MainWindow
    from desktop_app.ui.settings import Settings

    windows = []

    def make(folders: list[Path] | None = None) -> MainWindow:
        window = MainWindow(Settings(), model_folders=folders if folders is not None else [two_models])
        qtbot.addWidget(window)
        with qtbot.waitSignal(window.models.loaded_signal, timeout=10000):
            window.show()
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.close()
