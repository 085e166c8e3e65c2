"""PyInstaller entry point of the bundled ``image-classifier`` executable.

A plain module rather than ``desktop_app/__main__.py`` so the frozen script
never depends on package-relative imports; it behaves exactly like the
installed ``image-classifier`` console script (GUI without a sub-command,
``classify``/``models``/``--self-test``/``--version`` headless).
"""

from __future__ import annotations

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()  # harmless unless a worker process is ever spawned
    from desktop_app.cli import main

    sys.exit(main())
