"""Write screenshots of the real app: main window, a filtered batch, Compare models, Model details.

    PYTHONPATH=. python scripts/screenshots.py [--models DIR] [--photo FILE] [--out screenshots]
    QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1400x900x24" python scripts/screenshots.py --docs

Runs offscreen by default (no display needed), or on a real X server such as
Xvfb when ``QT_QPA_PLATFORM=xcb`` is set; settings are throw-away. Models come from
``--models`` or the shipped ``assets/models``; when there are none yet, a demo
10-class model with the CIFAR-10 labels and *random* weights is generated
(clearly named "untrained demo"), so the layout can be shown before training.
Writes ``<out>/main_window.png``, ``<out>/batch.png`` (filtered to one
class), ``<out>/compare.png``, ``<out>/model_details.png`` and
``<out>/model_training.png``; ``--readme-copy`` also writes a small (< 150 KB)
``docs/screenshot.png``, and ``--docs`` small copies of all of them in docs/.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from desktop_app.engine.scope import CIFAR10_LABELS as CIFAR_LABELS  # noqa: E402

PHOTO_DIRS = (REPO / "assets" / "samples",)


def demo_models(folder: Path) -> Path:
    """A contract-valid 10-class model with random weights (only for pictures of the UI)."""
    from tests.model_factory import colour_metadata, make_classifier

    meta = colour_metadata(CIFAR_LABELS, display_name="Untrained demo (random weights)")
    meta.update(description="Random weights: only for screenshots before the real models exist", dataset="none")
    meta.update(metrics={}, training={})  # claims nothing
    make_classifier(folder / "demo.onnx", CIFAR_LABELS, scale=40.0, metadata=meta)
    return folder


def find_photos() -> tuple[Path, Path]:
    """(a photo for the main window, the folder of photos for the batch)."""
    for root in PHOTO_DIRS:
        photos = sorted(p for p in root.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
        if photos:
            cat = [p for p in photos if p.parent.name == "cat"]
            return (cat or photos)[0], root
    raise SystemExit("no sample photos found in " + ", ".join(map(str, PHOTO_DIRS)))


def throwaway_settings(prefix: str) -> Path:
    """A temporary folder whose ``settings`` sub-folder takes the app's QSettings (INI), so the
    pictures never read or change the user's settings."""
    from PySide6.QtCore import QSettings

    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp / "settings"))
    return tmp


def wait_until(app, condition, timeout_s: float = 30.0) -> None:  # noqa: ANN001
    import time

    end = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > end:
            raise SystemExit("timed out waiting for the app")
        app.processEvents()
        time.sleep(0.01)


def settle(app, seconds: float = 0.3) -> None:  # noqa: ANN001
    """Let pending layout and paint events run before grabbing."""
    import time

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def small_copy(source: Path, target: Path, width: int = 900, limit: int = 150_000) -> None:
    """Scale down and quantize with Pillow until the PNG is under ``limit`` bytes."""
    from PIL import Image

    image = Image.open(source).convert("RGB")
    for w in dict.fromkeys((width, 800, 700, 600)):
        scaled = image.resize((w, round(image.height * w / image.width)), Image.Resampling.LANCZOS)
        for colours in (256, 128, 64):
            scaled.quantize(colours, dither=Image.Dither.NONE).save(target, optimize=True)
            if target.stat().st_size < limit:
                return
    raise SystemExit(f"could not make {target} smaller than {limit} bytes")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, help="folder of ONNX models (default: assets/models, else a demo model)")
    parser.add_argument("--photo", type=Path, help="photo for the main window (default: a cat from the real photos)")
    parser.add_argument("--out", type=Path, default=REPO / "screenshots")
    parser.add_argument("--readme-copy", action="store_true", help="also write docs/screenshot.png (< 150 KB)")
    parser.add_argument(
        "--docs", action="store_true", help="small copies of every screenshot in docs/ (implies --readme-copy)"
    )
    parser.add_argument("--filter-class", default="cat", help="class the batch screenshot is filtered to (default cat)")
    args = parser.parse_args(argv)

    from desktop_app.engine.registry import shipped_models_dir
    from desktop_app.ui.app import create_application
    from desktop_app.ui.main_window import MainWindow
    from desktop_app.ui.settings import Settings

    tmp = throwaway_settings("screenshots-")
    models = args.models or shipped_models_dir()
    if not any(models.glob("*.onnx")) and not any(models.glob("*/*.onnx")):
        print(f"no models in {models}; using an untrained demo model", file=sys.stderr)
        models = demo_models(tmp / "models")
    photo, photo_root = find_photos()
    photo = args.photo or photo
    args.out.mkdir(parents=True, exist_ok=True)

    app = create_application()
    window = MainWindow(Settings(), model_folders=[models])
    window.resize(1100, 700)
    window.show()
    wait_until(app, lambda: window.models.loaded)
    window.open_paths([str(photo)])
    wait_until(app, lambda: window.last_prediction is not None and window.single_view.drop_area.image() is not None)
    settle(app)
    main_png = args.out / "main_window.png"
    window.grab().save(str(main_png))
    print(f"{main_png}: {photo.name} -> {window.last_prediction.label} ({window.last_prediction.probability:.1%})")

    shots = {"screenshot.png": main_png}
    shots["compare.png"] = grab_compare(app, window, args.out)
    shots["model_details.png"], shots["model_training.png"] = grab_details(app, window, args.out)

    done = []
    window.batch.finished.connect(lambda: done.append(True))
    window.open_paths([str(photo_root)])
    wait_until(app, lambda: bool(done))
    view = window.batch_view
    index = view.class_filter.findData(args.filter_class)
    view.class_filter.setCurrentIndex(max(0, index))
    view.table.selectRow(0)
    model = view.model
    wait_until(
        app,
        lambda: all(
            view.thumbnails.get(str(model.prediction(r).path)) is not None or model.prediction(r).error
            for r in range(model.rowCount())
        ),
        10,
    )
    wait_until(app, lambda: view.preview.pixmap() is not None and not view.preview.pixmap().isNull(), 10)
    settle(app)
    batch_png = args.out / "batch.png"
    window.grab().save(str(batch_png))
    shots["batch.png"] = batch_png
    print(f"{batch_png}: {view.summary.text()}")
    if args.readme_copy or args.docs:
        for name, source in shots.items() if args.docs else [("screenshot.png", main_png)]:
            target = REPO / "docs" / name
            target.parent.mkdir(exist_ok=True)
            small_copy(source, target, width=min(900, _width(source)))
            print(f"{target}: {target.stat().st_size:,} bytes")
    window.close()
    return 0


def _width(path: Path) -> int:
    from PIL import Image

    with Image.open(path) as image:
        return image.width


def grab_compare(app, window, out: Path) -> Path:  # noqa: ANN001
    """Compare models on the current image, once every card and the thumbnail are there."""
    window.show_compare()
    dialog = window.models.compare_dialog
    wait_until(app, lambda: dialog._pending == 0 and dialog.thumbnail.pixmap() is not None)
    settle(app)
    path = out / "compare.png"
    dialog.grab().save(str(path))
    print(f"{path}: {dialog.summary.text()}")
    dialog.close()
    return path


def grab_details(app, window, out: Path) -> tuple[Path, Path]:  # noqa: ANN001
    """Model details: the overview tab and the training tab."""
    window.models.show_details()
    dialog = window.models._details
    dialog.resize(760, 620)
    settle(app)
    overview = out / "model_details.png"
    dialog.grab().save(str(overview))
    dialog.tabs.setCurrentIndex(dialog.tabs.count() - 1)
    settle(app)
    training = out / "model_training.png"
    dialog.grab().save(str(training))
    dialog.close()
    return overview, training


if __name__ == "__main__":
    raise SystemExit(main())
