"""The pre-Qt check of the xcb plugin's system libraries: parser, message, and the GUI's exit code 5."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from desktop_app import platform_check
from desktop_app.platform_check import EXIT_MISSING_LIBRARIES, install_hint, missing_libraries

LDD_OUTPUT = """\
\tlinux-vdso.so.1 (0x00007ffd0b5e6000)
\tlibQt6XcbQpa.so.6 => /venv/PySide6/Qt/plugins/platforms/../../lib/libQt6XcbQpa.so.6 (0x00007f0c2c000000)
\tlibxcb-cursor.so.0 => /lib/x86_64-linux-gnu/libxcb-cursor.so.0 (0x00007f0c2bff0000)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibxcb-icccm.so.4 => not found
\tlibfoo-unknown.so.7 => not found
\t/lib64/ld-linux-x86-64.so.2 (0x00007f0c2d000000)
"""

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the xcb check runs on Linux only")


def test_parser_lists_each_missing_library_once() -> None:
    assert missing_libraries(LDD_OUTPUT) == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libfoo-unknown.so.7"]
    assert missing_libraries("\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x1)\n") == []


def test_message_names_the_packages() -> None:
    message = install_hint(missing_libraries(LDD_OUTPUT))
    assert "sudo apt-get install libxcb-icccm4 libxcb-keysyms1\n" in message
    assert "sudo dnf install xcb-util-wm xcb-util-keysyms\n" in message
    assert "libfoo-unknown.so.7" in message.splitlines()[-2]


def test_every_listed_soname_has_both_package_names() -> None:
    assert all(debian and fedora for debian, fedora in platform_check.PACKAGES.values())


@pytest.fixture()
def fake_ldd(tmp_path: Path) -> Path:
    """A folder with an ``ldd`` that reports libxcb-icccm.so.4 missing for every file."""
    folder = tmp_path / "bin"
    folder.mkdir()
    script = folder / "ldd"
    script.write_text(
        "#!/bin/sh\nprintf '\\tlibxcb.so.1 => /lib/libxcb.so.1 (0x1)\\n\\tlibxcb-icccm.so.4 => not found\\n'\n"
    )
    script.chmod(0o755)
    return folder


def test_check_skipped_for_other_platforms(fake_ldd: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", f"{fake_ldd}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(platform_check, "qt_dir", lambda: Path(__file__).parent)  # any folder: ldd is fake
    monkeypatch.setattr(platform_check, "xcb_files", lambda qt: [Path(__file__)])
    for platform in ("offscreen", "wayland", "wayland;xcb"):
        monkeypatch.setenv("QT_QPA_PLATFORM", platform)
        assert platform_check.check_gui_libraries() is None
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    assert "libxcb-icccm4" in (platform_check.check_gui_libraries() or "")
    monkeypatch.setattr(platform_check, "xcb_files", lambda qt: [])  # every library resolves
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert "no display (DISPLAY is not set)" in (platform_check.check_gui_libraries() or "")
    monkeypatch.setenv("DISPLAY", ":0")
    assert platform_check.check_gui_libraries() is None
    monkeypatch.setattr(platform_check, "xcb_files", lambda qt: [Path(__file__)])
    monkeypatch.delenv("QT_QPA_PLATFORM")
    assert "libxcb-icccm4" in (platform_check.check_gui_libraries() or "")


def test_gui_exits_with_the_message_instead_of_qts_abort(fake_ldd: Path, repo_root: Path) -> None:
    if platform_check.qt_dir() is None or not platform_check.xcb_files(platform_check.qt_dir()):
        pytest.skip("PySide6's xcb plugin is not installed")
    env = {
        **os.environ,
        "PATH": f"{fake_ldd}{os.pathsep}{os.environ['PATH']}",
        "QT_QPA_PLATFORM": "xcb",
        "PYTHONPATH": str(repo_root),
    }
    result = subprocess.run(
        [sys.executable, "-m", "desktop_app"], env=env, capture_output=True, text=True, timeout=60, cwd=repo_root
    )
    assert result.returncode == EXIT_MISSING_LIBRARIES, result.stderr
    assert "missing: libxcb-icccm.so.4." in result.stderr
    assert "sudo apt-get install libxcb-icccm4" in result.stderr
    assert "Traceback" not in result.stderr
