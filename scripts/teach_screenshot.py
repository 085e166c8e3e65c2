"""Screenshot of the "Teach a new model" dialog's summary, taught from the real photos.

    PYTHONPATH=. python scripts/teach_screenshot.py [--backbone FILE] [--out docs/teach_summary.png]

Runs offscreen: copies the CIFAR-class real photos (bird, cat, dog) of
../shared/data/real-photos into a scratch "pets" folder, teaches them in the
real dialog (real backbone, real teaching), and grabs the summary page.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
PHOTOS = REPO.parent / "shared" / "data" / "real-photos"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbone", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "teach_summary.png")
    args = parser.parse_args()
    from PySide6.QtWidgets import QApplication

    from desktop_app.ui.teach_dialog import TeachDialog

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        pets = Path(tmp) / "pets"
        for cls in ("bird", "cat", "dog"):
            shutil.copytree(PHOTOS / cls, pets / cls)
        dialog = TeachDialog(models_dir=Path(tmp) / "models", backbone=args.backbone, folder=pets, name="Pets")
        dialog.show()
        done: list[str] = []
        dialog.model_taught.connect(done.append)
        dialog.start()
        while not done and dialog.worker is not None:
            app.processEvents()
        if not done:
            print(f"teaching failed: {dialog.problem.text()}", file=sys.stderr)
            return 1
        app.processEvents()
        dialog.grab().save(str(args.out))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
