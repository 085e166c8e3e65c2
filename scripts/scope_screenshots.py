"""Screenshots of issue 16 in the real window: an out-of-scope photo, the general model's top-10 bars,
and a batch filtered to "Out of scope".

    QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1400x900x24" python scripts/scope_screenshots.py --docs

Uses the shipped models (assets/models) and photos (assets/samples). The verdicts
are real: they come from the window's own classification when the engine runs
the scope check there, else from :class:`desktop_app.engine.scope.ScopeChecker`
(the same check) run here on each photo. Writes ``<out>/scope_out_of_scope.png``,
``<out>/scope_general_top10.png`` and ``<out>/scope_batch.png``; ``--docs``
small copies in docs/.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from screenshots import REPO, settle, small_copy, throwaway_settings, wait_until  # noqa: E402

SAMPLES = REPO / "assets" / "samples"
HOT_DOG = SAMPLES / "_not-cifar" / "hot_dog.jpg"
GENERAL_PHOTO = SAMPLES / "_not-cifar" / "dragonfly.jpg"


def with_scope(prediction, checker):  # noqa: ANN001, ANN201
    """``prediction`` with the scope verdict (the window's own if it has one)."""
    if prediction.scope is not None or not prediction.ok:
        return prediction
    return dataclasses.replace(prediction, scope=checker.check_file(prediction.path))


def classify(app, window, path: Path):  # noqa: ANN001, ANN201
    window.single.last_prediction = None
    window.open_paths([str(path)])
    wait_until(
        app, lambda: window.single.last_prediction is not None and window.single_view.drop_area.image() is not None
    )
    return window.single.last_prediction


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "screenshots")
    parser.add_argument("--docs", action="store_true", help="small copies in docs/")
    parser.add_argument("--cifar-model", default="VGG-style CNN", help="display name of the CIFAR model")
    args = parser.parse_args(argv)

    from desktop_app.engine.registry import shipped_models_dir
    from desktop_app.engine.scope import ScopeChecker, find_general_model
    from desktop_app.ui.app import create_application
    from desktop_app.ui.main_window import MainWindow
    from desktop_app.ui.settings import Settings

    throwaway_settings("scope-screenshots-")
    args.out.mkdir(parents=True, exist_ok=True)
    app = create_application()
    window = MainWindow(Settings(), model_folders=[shipped_models_dir()])
    window.resize(1100, 700)
    window.show()
    wait_until(app, lambda: window.models.loaded)
    models = window.state.models
    cifar = next(m for m in models if m.display_name == args.cifar_model)
    general = find_general_model(models)
    checker = ScopeChecker(general)
    shots = {}

    window.state.set_model(cifar)
    prediction = with_scope(classify(app, window, HOT_DOG), checker)
    window.single_view.result.show_prediction(prediction, cifar.labels)
    settle(app)
    shots["scope_out_of_scope.png"] = args.out / "scope_out_of_scope.png"
    window.grab().save(str(shots["scope_out_of_scope.png"]))
    print(
        f"out of scope: {HOT_DOG.name} -> {prediction.label} ({prediction.probability:.1%}); {prediction.scope.reason}"
    )

    window.state.set_model(general)
    prediction = classify(app, window, GENERAL_PHOTO)
    settle(app)
    shots["scope_general_top10.png"] = args.out / "scope_general_top10.png"
    window.grab().save(str(shots["scope_general_top10.png"]))
    print(f"general: {GENERAL_PHOTO.name} -> {prediction.label} ({prediction.probability:.1%})")

    window.state.set_model(cifar)
    done = []
    window.batch.finished.connect(lambda: done.append(True))
    window.open_paths([str(SAMPLES)])
    wait_until(app, lambda: bool(done), 120)
    view = window.batch_view
    rows = [with_scope(p, checker) for p in view.model.predictions()]
    if any(a is not b for a, b in zip(rows, view.model.predictions())):  # verdicts added here
        progress = view.progress_label.text()
        view.set_labels(cifar.labels)  # the same rows, now with their verdicts
        view.add_predictions(rows)
        view.progress.setValue(1)
        view.progress_label.setText(progress)
    view.status_filter.setCurrentIndex(view.status_filter.findData("out_of_scope"))
    view.table.selectRow(0)
    model = view.model
    wait_until(app, lambda: all(view.thumbnails.get(str(p.path)) is not None for p in rows if p.ok), 20)
    wait_until(app, lambda: view.preview.pixmap() is not None and not view.preview.pixmap().isNull(), 20)
    settle(app)
    shots["scope_batch.png"] = args.out / "scope_batch.png"
    window.grab().save(str(shots["scope_batch.png"]))
    print(f"batch: {view.summary.text()} ({model.rowCount()} rows)")
    if args.docs:
        for name, source in shots.items():
            target = REPO / "docs" / name
            small_copy(source, target, width=900)
            print(f"{target}: {target.stat().st_size:,} bytes")
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
