"""Run the packaged app on a virtual X display: find its window, time it, grab it.

Needs ``Xvfb`` and ``xdotool`` (Debian/Ubuntu: ``apt-get install xvfb xdotool``).
The window grab uses PySide6 from the interpreter running this module, so no
screenshot tool is needed. Used by ``scripts/screenshot_bundle.py`` and
``packaging/measure_startup.py``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

WINDOW_NAME = "Image Classifier"  # matched as a regular expression against window titles
GRAB_SNIPPET = """
import sys
from PySide6.QtGui import QGuiApplication
app = QGuiApplication(sys.argv[:1])
pixmap = app.primaryScreen().grabWindow(int(sys.argv[1]))
sys.exit(0 if not pixmap.isNull() and pixmap.save(sys.argv[2]) else 1)
"""


def require_tools(*names: str) -> None:
    """Exit with an install hint when a required command is missing."""
    missing = [name for name in names if shutil.which(name) is None]
    if missing:
        sys.exit(f"missing {', '.join(missing)}: apt-get install -y xvfb xdotool")


@contextlib.contextmanager
def virtual_display(width: int = 1280, height: int = 800) -> Iterator[str]:
    """Start Xvfb on a free display number; yield it as ``":N"``.

    ``-noreset``: by default Xvfb resets whenever its last client disconnects
    (here: the readiness probe), and a client connecting during the reset fails.
    """
    require_tools("Xvfb", "xdotool")
    number = next(
        n for n in range(99, 199) if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists()
    )
    display = f":{number}"
    server = subprocess.Popen(
        ["Xvfb", display, "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp", "-noreset"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not _accepts_clients(display):
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Xvfb did not start on {display}")
            time.sleep(0.05)
        yield display
    finally:
        server.terminate()
        server.wait(timeout=10)


def _accepts_clients(display: str) -> bool:
    probe = subprocess.run(
        ["xdotool", "getdisplaygeometry"], capture_output=True, env=dict(os.environ, DISPLAY=display)
    )
    return probe.returncode == 0


def app_environment(display: str, config_home: str) -> dict[str, str]:
    """Environment for the app: the virtual display, xcb, settings in a scratch folder."""
    env = dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb", XDG_CONFIG_HOME=config_home)
    env.pop("WAYLAND_DISPLAY", None)
    return env


def find_window(display: str, name: str = WINDOW_NAME) -> int | None:
    """The id of a visible window whose title matches ``name``, if any."""
    result = subprocess.run(
        ["xdotool", "search", "--onlyvisible", "--name", name],
        capture_output=True,
        text=True,
        env=dict(os.environ, DISPLAY=display),
    )
    ids = result.stdout.split()
    return int(ids[0]) if ids else None


def launch_and_wait(
    command: Sequence[str], display: str, *, timeout: float = 30.0, config_home: str | None = None
) -> tuple[subprocess.Popen, int, float]:
    """Start ``command``; return (process, window id, seconds until the window was visible)."""
    config_home = config_home or tempfile.mkdtemp(prefix="image-classifier-config-")
    start = time.monotonic()
    process = subprocess.Popen(
        list(command), env=app_environment(display, config_home), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    while True:
        window = find_window(display)
        if window is not None:
            return process, window, time.monotonic() - start
        if process.poll() is not None:
            raise RuntimeError(f"the app exited with {process.returncode}: {process.stderr.read().decode()[-2000:]}")
        if time.monotonic() - start > timeout:
            stop(process)
            raise RuntimeError(f"no window titled {WINDOW_NAME!r} within {timeout:.0f} s")
        time.sleep(0.01)


def stop(process: subprocess.Popen) -> None:
    """Terminate the app (it is our own child) and reap it."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def grab_window(window: int, display: str, out: Path) -> None:
    """Save a PNG of ``window`` using PySide6 on the same display."""
    out.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb")
    result = subprocess.run(
        [sys.executable, "-c", GRAB_SNIPPET, str(window), str(out)], env=env, capture_output=True, text=True, timeout=60
    )
    if result.returncode != 0:
        raise RuntimeError(f"window grab failed: {result.stderr[-2000:]}")
