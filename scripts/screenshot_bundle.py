"""Screenshot of the PACKAGED app after it classified a photo: screenshots/packaged_app.png.

    bash scripts/build_bundle.sh                # first, once
    python scripts/screenshot_bundle.py [--image PATH] [--settle 6] [--out FILE]

Starts ``dist/ImageClassifier/image-classifier PHOTO`` on a virtual X display
(Xvfb), waits for its window, gives it time to load the models and classify
the photo, then saves the window with PySide6. Needs ``Xvfb`` and ``xdotool``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "packaging"))

from xvfb import grab_window, launch_and_wait, stop, virtual_display  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=ROOT / "dist" / "ImageClassifier")
    parser.add_argument("--image", type=Path, default=ROOT / "assets" / "samples" / "cat" / "cat_720p.jpg")
    parser.add_argument("--settle", type=float, default=6.0, help="seconds to wait after the window shows")
    parser.add_argument("--size", default="1100x720", help="window size WxH (set with xdotool)")
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots" / "packaged_app.png")
    args = parser.parse_args(argv)

    executable = args.bundle / "image-classifier"
    if not executable.is_file():
        sys.exit(f"{executable} not found: run scripts/build_bundle.sh first")
    width, height = args.size.split("x")
    with virtual_display() as display, tempfile.TemporaryDirectory() as config_home:
        process, window, elapsed = launch_and_wait(
            [str(executable), str(args.image.resolve())], display, config_home=config_home
        )
        try:
            print(f"window visible after {elapsed:.2f} s; waiting {args.settle:.0f} s for the classification")
            subprocess.run(
                ["xdotool", "windowsize", str(window), width, height],
                env=dict(os.environ, DISPLAY=display),
                check=False,
            )
            time.sleep(args.settle)
            if process.poll() is not None:
                sys.exit(f"the app exited with {process.returncode} before the screenshot")
            grab_window(window, display, args.out)
        finally:
            stop(process)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
