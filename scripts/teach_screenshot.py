"""Screenshots of teaching: the "Teach a new model" dialog's summary, and "Correct..." in the window.

    PYTHONPATH=. python scripts/teach_screenshot.py --photos REAL_PHOTOS [--backbone FILE]
        [--out docs/teach_summary.png] [--correct-out docs/teach_correct.png]

Runs offscreen (or on Xvfb with ``QT_QPA_PLATFORM=xcb xvfb-run -a``): copies the
CIFAR-class real photos (the bird, cat and dog subfolders of ``--photos``) into
a scratch "pets" folder, teaches them in the real dialog (real backbone, real
teaching), and grabs the summary page. ``--correct-out``: the real main window
with a "Pets" model taught without one dog photo, that photo classified, and
the "Correct..." dialog open over it (settings and models in a scratch folder).
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=Path, required=True, help="folder with bird, cat and dog subfolders")
    parser.add_argument("--backbone", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "teach_summary.png")
    parser.add_argument("--correct-out", type=Path, default=None)
    args = parser.parse_args()
    if args.correct_out is not None:
        return correct_screenshot(args.photos, args.backbone, args.correct_out)
    from PySide6.QtWidgets import QApplication

    from desktop_app.ui.teach_dialog import TeachDialog

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        pets = Path(tmp) / "pets"
        for cls in ("bird", "cat", "dog"):
            shutil.copytree(args.photos / cls, pets / cls)
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


def _wait(app, until, seconds: float = 60) -> bool:  # noqa: ANN001
    import time

    end = time.monotonic() + seconds
    while not until() and time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)
    return bool(until())


def correct_screenshot(photos: Path, backbone: Path | None, out: Path) -> int:
    """The window after classifying a held-back dog photo with "Pets", the Correct dialog painted over it."""
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["IMAGE_CLASSIFIER_DATA"] = str(Path(tmp) / "data")
        from PySide6.QtCore import QPoint, QSettings
        from PySide6.QtGui import QPainter
        from PySide6.QtWidgets import QApplication

        for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
            QSettings.setPath(QSettings.Format.IniFormat, scope, str(Path(tmp) / "settings"))
        QSettings.setDefaultFormat(QSettings.Format.IniFormat)
        app = QApplication.instance() or QApplication([])
        from desktop_app.engine.taught_models import user_models_dir
        from desktop_app.engine.teach import teach
        from desktop_app.ui.main_window import MainWindow
        from desktop_app.ui.settings import Settings

        pets = Path(tmp) / "pets"
        for cls in ("bird", "cat", "dog"):
            shutil.copytree(photos / cls, pets / cls)
        held_back = Path(tmp) / "dog_test_0.png"
        shutil.move(pets / "dog" / "dog_test_0.png", held_back)
        model = teach(pets, user_models_dir() / "pets.onnx", name="Pets", backbone=backbone).path
        window = MainWindow(Settings())
        window.teach.backbone = backbone
        window.resize(1000, 600)
        window.show()
        if not _wait(app, lambda: window.models.loaded):
            return 1
        window.state.set_model(window.state.model_by_path(str(model)))
        shown: list = []
        window.single.shown.connect(shown.append)
        window.open_paths([str(held_back)])
        if not _wait(app, lambda: bool(shown)) or not window.actions.correct_image.isEnabled():
            print("the photo was not classified with the taught model", file=sys.stderr)
            return 1
        window.actions.correct_image.trigger()
        dialog = window.teach.dialog
        dialog.setTextValue("dog")
        _wait(app, lambda: False, 0.5)
        picture = window.grab()
        painter = QPainter(picture)
        box = dialog.grab()
        painter.drawPixmap(QPoint((picture.width() - box.width()) // 2, (picture.height() - box.height()) // 2), box)
        painter.end()
        full = Path(tmp) / "full.png"
        picture.save(str(full))
        from scripts.screenshots import small_copy

        small_copy(full, out)
        print(f"{held_back.name}: Pets said {shown[-1].label} ({shown[-1].probability:.0%}); wrote {out}")
        dialog.reject()
        window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
