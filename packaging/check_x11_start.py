"""Start the app on a real X server (Xvfb, the xcb platform) and require its window to show and stay up.

    python packaging/check_x11_start.py dist/ImageClassifier/image-classifier [ARGS...]

The offscreen smoke test cannot see a missing X11 library: Qt loads the xcb
plugin only for a display. This one does (as a desktop start would), then
waits until a window titled "Image Classifier" is visible (xdotool), keeps it
up for ``--stay`` seconds and fails on an early exit, a traceback, or the
app's own missing-library message (exit 5). Needs ``Xvfb`` and ``xdotool``
(Debian: ``apt-get install xvfb xdotool``); exit 2 when they are missing.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from xvfb import launch_and_wait, stop, virtual_display  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="+", help="the app's executable and its arguments")
    parser.add_argument("--stay", type=float, default=3.0, help="seconds the window must stay up (default 3)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the window (default 60)")
    args = parser.parse_args(argv)
    missing = [tool for tool in ("Xvfb", "xdotool") if shutil.which(tool) is None]
    if missing:
        print(
            f"FAIL: {' and '.join(missing)} not installed, so the X11 start cannot be checked "
            "(Debian: apt-get install xvfb xdotool)",
            file=sys.stderr,
        )
        return 2
    with virtual_display() as display, tempfile.TemporaryDirectory() as config_home:
        try:
            process, window, seconds = launch_and_wait(
                args.command, display, timeout=args.timeout, config_home=config_home
            )
        except RuntimeError as exc:
            print(f"FAIL: the app did not show its window on the X server {display}: {exc}", file=sys.stderr)
            return 1
        time.sleep(args.stay)
        alive = process.poll() is None
        stop(process)
        log = process.stderr.read().decode(errors="replace") if process.stderr else ""
    if not alive or "Traceback" in log:
        print(
            f"FAIL: the window showed, then the app {'printed a traceback' if alive else 'exited'}:\n{log[-3000:]}",
            file=sys.stderr,
        )
        return 1
    print(f"OK: window {window} visible on Xvfb {display} (xcb) after {seconds:.2f} s and up for {args.stay:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
