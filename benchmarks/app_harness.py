"""Child process of the app timing: start the real window offscreen and stamp events.

    python -m benchmarks.app_harness --models DIR --image A --image B [--switch-rounds N]

Starts the window through ``desktop_app.ui.app.start()`` (what ``run()``
calls before the event loop), with the models folder stored in the app's
settings (isolated in a temporary folder), then plays a user: drops image A
as soon as the window is painted, drops image B once that is classified,
then switches through every model ``1 + N`` times (the first round opens the
sessions, later rounds hit the classifier cache). Every stamp is
``time.perf_counter()`` (CLOCK_MONOTONIC on Linux, shared with the parent
process). Prints one JSON object and exits.
"""

from __future__ import annotations

import time

T_START = time.perf_counter()  # before any import of ours

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

TIMEOUT_MS = 120_000


def _drop(widget: Any, path: str) -> None:
    """Hand ``widget`` a real QDropEvent with ``path`` as a file URL, as a file manager's drag would.

    Called on the handler directly: ``QApplication.sendEvent`` drops a Drop
    event that no drag started.
    """
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(os.path.abspath(path))])
    event = QDropEvent(
        QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    widget.dropEvent(event)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", required=True)
    parser.add_argument("--image", action="append", required=True)
    parser.add_argument("--settings", help="folder for the app's QSettings (default: a temporary one)")
    parser.add_argument("--switch-rounds", type=int, default=0)
    args = parser.parse_args(argv)
    stamps: dict[str, float] = {"harness_start": T_START}
    switches: list[dict[str, Any]] = []

    from PySide6.QtCore import QEvent, QObject, QSettings, QTimer

    stamps["pyside_imported"] = time.perf_counter()
    import tempfile

    settings_dir = args.settings or tempfile.mkdtemp(prefix="app-harness-settings-")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    for fmt in (QSettings.Format.IniFormat, QSettings.Format.NativeFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, settings_dir)

    import desktop_app.cli  # noqa: F401  - the real entry module, for its import cost
    from desktop_app.ui.app import create_application

    app = create_application(["image-classifier"])
    stamps["qapplication"] = time.perf_counter()
    from desktop_app.ui.settings import Settings

    Settings().model_folders = [os.path.abspath(args.models)]  # found next to the (maybe empty) shipped folder

    class FirstPaint(QObject):
        """Stamps the first Paint event of the main window (installed before it exists)."""

        def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
            if (
                event.type() == QEvent.Type.Paint
                and "window_painted" not in stamps
                and type(obj).__name__ == "MainWindow"
            ):
                stamps["window_painted"] = time.perf_counter()
                QTimer.singleShot(0, first_drop)
            return False

    painter = FirstPaint()
    app.installEventFilter(painter)
    from desktop_app.ui import app as app_module
    from desktop_app.ui import main_window  # noqa: F401

    stamps["ui_imported"] = time.perf_counter()
    window = app_module.start([])
    stamps["show_called"] = time.perf_counter()
    result: dict[str, Any] = {"stamps": stamps, "switches": switches, "error": None}

    def finish(error: str | None = None) -> None:
        result["error"] = error
        result["models"] = [str(info.path) for info in window.models.infos]
        print(json.dumps(result), flush=True)
        window.close()
        app.quit()

    state = {"step": "first"}

    def first_drop() -> None:
        stamps["drop_1"] = time.perf_counter()
        _drop(window.single_view.drop_area, args.image[0])

    def on_loaded() -> None:
        stamps.setdefault("models_loaded", time.perf_counter())

    queue: list[str] = []

    def next_switch() -> None:
        if not queue:
            finish()
            return
        path = queue.pop(0)
        switches.append({"model": path, "start": time.perf_counter(), "end": None})
        if not window.model_bar.select_model(path):
            finish(f"model {path} is not in the dropdown")

    def on_prediction(prediction: Any) -> None:
        now = time.perf_counter()
        step = state["step"]
        if prediction is not None and getattr(prediction, "error", None):
            finish(f"prediction failed: {prediction.error}")
            return
        if step == "first":
            stamps["prediction_1"] = now
            state["step"] = "second"
            QTimer.singleShot(
                200,
                lambda: (
                    stamps.__setitem__("drop_2", time.perf_counter()),
                    _drop(window.single_view.drop_area, args.image[-1]),
                ),
            )
        elif step == "second":
            stamps["prediction_2"] = now
            state["step"] = "switch"
            # Only the measured folder's models: with the shipped ones too, more models than the
            # engine's classifier cache holds (CACHE_SIZE) would make every "loaded" switch a reload.
            folder = Path(args.models).resolve()
            paths = [str(info.path) for info in window.models.infos if Path(info.path).parent == folder]
            current = window.model_bar.model_path()
            order = [p for p in paths if p != current] + ([current] if current in paths else [])
            queue.extend(order * (1 + args.switch_rounds) if len(paths) > 1 else [])
            QTimer.singleShot(100, next_switch)
        elif switches and switches[-1]["end"] is None:
            switches[-1]["end"] = now
            QTimer.singleShot(100, next_switch)

    window.models.loaded_signal.connect(on_loaded)
    window.prediction_shown.connect(on_prediction)
    if window.models.loaded:  # cannot happen (the registry loads on a worker), but never wait forever
        on_loaded()
    QTimer.singleShot(TIMEOUT_MS, lambda: finish(f"timed out in step {state['step']}"))
    app.exec()
    return 0 if result["error"] is None else 1


if __name__ == "__main__":
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.exit(main())
