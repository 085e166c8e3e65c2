"""One scroll of the batch table in a fresh offscreen app: ``python -m benchmarks.thumbnail_child FOLDER``.

Fills the real :class:`BatchView` with one row per file in FOLDER, waits for
the first screen's thumbnails (the baseline: one screenful with nothing else
asked), then drags the scroll bar to the bottom in ``--drag-s`` seconds,
letting the view paint at every step as a user's drag does, and times how
long after the drag stops the rows on screen all have their thumbnails.
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path


def _pump(app, seconds: float, done=lambda: False) -> float:  # noqa: ANN001
    """Process events for up to ``seconds`` or until ``done()``; returns the seconds spent."""
    start = time.perf_counter()
    while time.perf_counter() - start < seconds and not done():
        app.processEvents()
        time.sleep(0.002)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", type=Path)
    parser.add_argument("--drag-s", type=float, default=4.0)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--timeout-s", type=float, default=60.0)
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv[:1])
    from desktop_app.engine.classifier import Prediction
    from desktop_app.ui.batch_view import BatchView
    from desktop_app.ui.thumbnails import ThumbnailCache

    paths = sorted(str(p) for p in args.folder.iterdir())
    cache = ThumbnailCache()
    view = BatchView(cache)
    view.resize(1000, 800)
    view.show()
    view.model.add_predictions([Prediction(p, "cat", 0.9, [("cat", 0.9)]) for p in paths])
    table = view.table

    def on_screen() -> list[str]:
        first, last = table.rowAt(0), table.rowAt(table.viewport().height() - 1)
        last = view.proxy.rowCount() - 1 if last < 0 else last
        rows = (view.proxy.mapToSource(view.proxy.index(r, 0)).row() for r in range(max(first, 0), last + 1))
        return [str(view.model.prediction(r).path) for r in rows]

    def all_shown() -> bool:
        return all(cache.has(path) for path in on_screen())

    first_screen_s = _pump(app, args.timeout_s, all_shown)
    bar = table.verticalScrollBar()
    for step in range(1, args.steps + 1):
        bar.setValue(round(bar.maximum() * step / args.steps))
        _pump(app, args.drag_s / args.steps)
    after_drag_s = _pump(app, args.timeout_s, all_shown)
    print(
        json.dumps(
            {
                "rows": len(paths),
                "on_screen": len(on_screen()),
                "first_screen_s": first_screen_s,
                "after_drag_s": after_drag_s,
                "loaded": all_shown(),
                "at_bottom": bar.value() == bar.maximum(),
            }
        )
    )
    cache.clear()
    cache.wait(10_000)
    return 0


if __name__ == "__main__":
    sys.exit(main())
