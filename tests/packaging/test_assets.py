"""The app icon files and the Linux desktop entry."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image

from tests.packaging.conftest import REPO_ROOT

ICONS = REPO_ROOT / "assets" / "icons"
DESKTOP_FILE = REPO_ROOT / "packaging" / "linux" / "image-classifier.desktop"


def test_png_icon_is_256_rgba_with_transparent_corners() -> None:
    with Image.open(ICONS / "image-classifier.png") as image:
        assert image.size == (256, 256) and image.mode == "RGBA"
        assert image.getpixel((0, 0))[3] == 0  # rounded tile: the corner is transparent
        assert image.getpixel((128, 128))[3] == 255


def test_ico_holds_the_usual_windows_sizes() -> None:
    with Image.open(ICONS / "image-classifier.ico") as image:
        assert {(16, 16), (32, 32), (48, 48), (256, 256)} <= set(image.info["sizes"])


def test_svg_is_well_formed_and_square() -> None:
    root = ET.parse(ICONS / "image-classifier.svg").getroot()
    assert root.tag.endswith("svg") and root.get("viewBox") == "0 0 256 256"


def test_icon_files_are_small() -> None:
    for path in ICONS.glob("image-classifier.*"):
        assert path.stat().st_size < 100_000, path


def test_committed_png_matches_the_generator(icons_module) -> None:
    """make_icons.py is the source of truth: re-rendering gives the committed pixels."""
    rendered = np.asarray(icons_module.render_png(256), dtype=np.int16)
    with Image.open(ICONS / "image-classifier.png") as image:
        committed = np.asarray(image.convert("RGBA"), dtype=np.int16)
    assert np.abs(rendered - committed).max() <= 1


def test_generator_writes_all_three_files(icons_module, tmp_path) -> None:
    paths = icons_module.write_icons(tmp_path)
    assert sorted(p.name for p in paths) == ["image-classifier.ico", "image-classifier.png", "image-classifier.svg"]
    assert all(p.stat().st_size > 0 for p in paths)


def test_desktop_entry_launches_the_bundle_executable_with_its_icon() -> None:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(DESKTOP_FILE, encoding="utf-8")
    entry = parser["Desktop Entry"]
    assert entry["Type"] == "Application" and entry["Name"] == "Image Classifier"
    assert entry["Exec"].split()[0] == "image-classifier" and "%F" in entry["Exec"]
    assert entry["Icon"] == "image-classifier" and entry["Terminal"] == "false"
    assert "image/jpeg" in entry["MimeType"].split(";")


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-utils not installed")
def test_desktop_entry_passes_desktop_file_validate() -> None:
    result = subprocess.run(["desktop-file-validate", str(DESKTOP_FILE)], capture_output=True, text=True)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr
