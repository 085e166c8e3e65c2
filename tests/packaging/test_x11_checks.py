"""CI's X11 checks: every bundled Qt plugin's libraries (fake ldd), and a real start on Xvfb."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.packaging.conftest import REPO_ROOT

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ldd and Xvfb checks are Linux-only")

FAKE_LDD = """#!/bin/sh
case "$1" in
  *libqwayland.so) printf '\\tlibwayland-cursor.so.0 => not found\\n\\tlibc.so.6 => /lib/libc.so.6 (0x1)\\n' ;;
  *) printf '\\tlibc.so.6 => /lib/libc.so.6 (0x1)\\n' ;;
esac
"""


@pytest.fixture()
def fake_bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A bundle folder with two platform plugins, and an ldd on PATH that misses one library of one of them."""
    bundle = tmp_path / "ImageClassifier"
    platforms = bundle / "_internal" / "PySide6" / "Qt" / "plugins" / "platforms"
    platforms.mkdir(parents=True)
    for name in ("libqxcb.so", "libqwayland.so"):
        (platforms / name).write_bytes(b"\x7fELF")
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "ldd").write_text(FAKE_LDD)
    (tools / "ldd").chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}{os.pathsep}{os.environ['PATH']}")
    return bundle


def test_unresolved_plugin_libraries_are_listed_with_packages(check_module, fake_bundle: Path) -> None:
    unresolved = check_module.unresolved_plugin_libraries(fake_bundle)
    assert unresolved == {"PySide6/Qt/plugins/platforms/libqwayland.so": ["libwayland-cursor.so.0"]}
    report, hints = check_module.plugin_library_report(unresolved)
    assert report == ["PySide6/Qt/plugins/platforms/libqwayland.so: libwayland-cursor.so.0 not found"]
    assert hints[0] == "Debian/Ubuntu:  sudo apt-get install libwayland-cursor0"


def test_check_bundle_fails_on_them_only_when_required(fake_bundle: Path) -> None:
    command = [sys.executable, str(REPO_ROOT / "packaging" / "check_bundle.py"), str(fake_bundle)]
    warned = subprocess.run(command, capture_output=True, text=True, timeout=60, env=os.environ)
    assert "WARNING: Qt plugins that cannot load here" in warned.stdout
    assert "FAIL Qt plugin library" not in warned.stdout
    required = subprocess.run(
        [*command, "--require-plugin-libraries"], capture_output=True, text=True, timeout=60, env=os.environ
    )
    assert required.returncode == 1
    assert (
        "FAIL Qt plugin library PySide6/Qt/plugins/platforms/libqwayland.so: libwayland-cursor.so.0" in required.stdout
    )
    assert (
        "Install the missing libraries, then rebuild:\n  Debian/Ubuntu:  sudo apt-get install libwayland-cursor0"
        in required.stdout
    )


@pytest.mark.skipif(shutil.which("Xvfb") is None or shutil.which("xdotool") is None, reason="needs Xvfb and xdotool")
def test_app_starts_on_a_real_x_server(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    env["PYTHONPATH"] = str(REPO_ROOT)
    result = subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT / "packaging" / "check_x11_start.py"),
            "--stay",
            "1",
            "--",
            sys.executable,
            "-m",
            "desktop_app",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "visible on Xvfb" in result.stdout
