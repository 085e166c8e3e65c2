"""Before Qt starts on Linux: do the xcb platform plugin's system libraries resolve?

Qt aborts (rc 134) with a misleading hint when a library of its xcb plugin is
missing. This module finds the plugin without importing Qt (the venv's
PySide6, or the bundle's copy under ``sys._MEIPASS``), runs ``ldd`` on it and
on Qt's xcb integration library, and turns every "not found" into one message
with the exact ``apt-get install`` (and ``dnf install``) line. Qt-free on
purpose: it runs before PySide6 is imported.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

#: soname -> (Debian/Ubuntu package, Fedora package) for everything the xcb plugin links
#: outside PySide6 (read with ``ldd`` + ``dpkg -S`` on Debian 12, PySide6 6.x).
PACKAGES: dict[str, tuple[str, str]] = {
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util"),
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb"),
    "libxcb.so.1": ("libxcb1", "libxcb"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb"),
    "libX11.so.6": ("libx11-6", "libX11"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon"),
    "libGL.so.1": ("libgl1", "libglvnd-glx"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig"),
    "libfreetype.so.6": ("libfreetype6", "freetype"),
    "libglib-2.0.so.0": ("libglib2.0-0", "glib2"),
    "libgthread-2.0.so.0": ("libglib2.0-0", "glib2"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs"),
    # the Wayland plugins the bundle also carries (packaging/check_bundle.py checks every plugin)
    "libwayland-client.so.0": ("libwayland-client0", "libwayland-client"),
    "libwayland-cursor.so.0": ("libwayland-cursor0", "libwayland-cursor"),
    "libwayland-egl.so.1": ("libwayland-egl1", "libwayland-egl"),
}
#: Exit code of the GUI when these libraries or the display are missing (beside the CLI's 0/1/2/3/130).
EXIT_MISSING_LIBRARIES = 5

_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found", re.MULTILINE)


def missing_libraries(ldd_output: str) -> list[str]:
    """The sonames ``ldd`` reports as "not found", in order, without repeats."""
    return list(dict.fromkeys(_NOT_FOUND.findall(ldd_output)))


def qt_dir() -> Path | None:
    """PySide6's ``Qt`` folder: in the bundle (``sys._MEIPASS``) or the installed package; found without importing it."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        candidate = Path(bundle) / "PySide6" / "Qt"
        return candidate if candidate.is_dir() else None
    try:
        spec = importlib.util.find_spec("PySide6")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    candidate = Path(list(spec.submodule_search_locations)[0]) / "Qt"
    return candidate if candidate.is_dir() else None


def xcb_files(qt: Path) -> list[Path]:
    """The xcb platform plugin and Qt's xcb integration library, where they exist."""
    # PyInstaller may put Qt's libraries in the bundle's top folder rather than Qt/lib.
    integration = sorted((qt / "lib").glob("libQt6XcbQpa.so*")) or sorted(qt.parents[1].glob("libQt6XcbQpa.so*"))
    files = [qt / "plugins" / "platforms" / "libqxcb.so", *integration[:1]]
    return [f for f in files if f.is_file()]


def unresolved(files: Iterable[Path], ldd: str = "ldd") -> list[str]:
    """Sonames that ``ldd`` cannot resolve for any of ``files``."""
    missing: list[str] = []
    for file in files:
        try:
            result = subprocess.run([ldd, str(file)], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.SubprocessError):
            continue
        missing += [name for name in missing_libraries(result.stdout) if name not in missing]
    return missing


def install_hint(missing: Iterable[str]) -> str:
    """The message for missing libraries, with the ``apt-get``/``dnf`` lines that install them."""
    missing = list(missing)
    debian = list(dict.fromkeys(PACKAGES[m][0] for m in missing if m in PACKAGES))
    fedora = list(dict.fromkeys(PACKAGES[m][1] for m in missing if m in PACKAGES))
    unknown = [m for m in missing if m not in PACKAGES]
    lines = [
        "error: the window cannot start: Qt's xcb platform plugin needs system libraries that are missing: "
        + ", ".join(missing)
        + ".",
    ]
    if debian:
        lines.append(f"  Debian/Ubuntu:  sudo apt-get install {' '.join(debian)}")
        lines.append(f"  Fedora:         sudo dnf install {' '.join(fedora)}")
    if unknown:
        lines.append(f"  Also install the package that provides {', '.join(unknown)}.")
    lines.append("The command line works without them: image-classifier classify PATH...")
    return "\n".join(lines)


def check_gui_libraries() -> str | None:
    """On Linux with the xcb platform: the install message when libraries are missing, or the
    no-display message (Qt would abort on either); else None.

    Skipped (None) off Linux, when ``QT_QPA_PLATFORM`` names another platform
    (offscreen, wayland), without ``ldd``, or when the plugin is not found
    (Qt then reports it itself).
    """
    if not sys.platform.startswith("linux"):
        return None
    platform = os.environ.get("QT_QPA_PLATFORM", "").split(":")[0].split(";")[0].strip()
    if platform and platform != "xcb":
        return None
    ldd = shutil.which("ldd")
    qt = qt_dir()
    if ldd is None or qt is None:
        return None
    missing = unresolved(xcb_files(qt), ldd)
    if missing:
        return install_hint(missing)
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        return (
            "error: the window cannot start: no display (DISPLAY is not set). Start it from a desktop "
            "session, or use the command line: image-classifier classify PATH..."
        )
    return None
