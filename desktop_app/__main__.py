"""``python -m desktop_app``: the same entry point as the ``image-classifier`` command."""

from __future__ import annotations

import sys

from desktop_app.cli import main

if __name__ == "__main__":
    sys.exit(main())
