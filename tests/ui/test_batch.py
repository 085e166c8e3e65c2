"""The real main window on batches: table, error rows, filters, cancel, export, sort."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from PySide6.QtCore import Qt

from desktop_app.ui.results_table import COL_CLASS, COL_ERROR, COL_FILE


def _run_batch(qtbot, window, paths: list[Path]) -> None:  # noqa: ANN001
    with qtbot.waitSignal(window.batch.finished, timeout=20000):
        window.open_paths([str(p) for p in paths])


def _table_rows(window) -> list[tuple[str, str, str]]:  # noqa: ANN001
    proxy = window.batch_view.proxy
    return [
        tuple(proxy.index(r, c).data() for c in (COL_FILE, COL_CLASS, COL_ERROR))  # type: ignore[misc]
        for r in range(proxy.rowCount())
    ]


def test_folder_batch_with_a_corrupt_file_fills_the_table(qtbot, make_window, batch_folder) -> None:  # noqa: ANN001
    window = make_window()
    _run_batch(qtbot, window, [batch_folder])
    assert window.tabs.currentWidget() is window.batch_view
    model = window.batch_view.model
    assert model.rowCount() == 6
    rows, errors, unsure = model.counts()
    assert (rows, errors) == (6, 1)
    by_name = {name: (cls, err) for name, cls, err in _table_rows(window)}
    # The reason is readable in the class column (no scrolling right), with a warning icon.
    assert by_name["broken.jpg"][0].startswith("Error: ") and "broken.jpg" in by_name["broken.jpg"][1]
    assert by_name["broken.jpg"][1] in by_name["broken.jpg"][0]
    proxy = window.batch_view.proxy
    broken_row = next(r for r in range(proxy.rowCount()) if proxy.index(r, COL_FILE).data() == "broken.jpg")
    assert not proxy.index(broken_row, COL_CLASS).data(Qt.ItemDataRole.DecorationRole).isNull()
    assert by_name["0_red.png"] == ("red", "")
    assert by_name["sub/deep_blue.jpg"] == ("blue", "")  # found in the sub-folder, shown relative to the drop
    assert window.batch_view.progress.value() == window.batch_view.progress.maximum() == 6
    assert "done in" in window.batch_view.progress_label.text()
    assert "1 error" in window.batch_view.progress_label.text()
    assert window.actions.export.isEnabled() and not window.actions.cancel.isEnabled()


def test_several_dropped_files_start_a_batch(qtbot, make_window, images) -> None:  # noqa: ANN001
    window = make_window()
    _run_batch(qtbot, window, [images["red"], images["green"]])
    assert [row[1] for row in _table_rows(window)] == ["red", "green"]


def test_filters_sorting_and_row_selection(qtbot, make_window, batch_folder) -> None:  # noqa: ANN001
    window = make_window()
    _run_batch(qtbot, window, [batch_folder])
    view = window.batch_view
    view.status_filter.setCurrentIndex(view.status_filter.findData("errors"))
    assert [row[0] for row in _table_rows(window)] == ["broken.jpg"]
    view.status_filter.setCurrentIndex(view.status_filter.findData("all"))
    view.class_filter.setCurrentIndex(view.class_filter.findData("red"))
    assert sorted(row[0] for row in _table_rows(window)) == ["0_red.png", "3_red.png"]
    view.class_filter.setCurrentIndex(0)
    view.table.sortByColumn(COL_FILE, Qt.SortOrder.AscendingOrder)
    names = [row[0] for row in _table_rows(window)]
    assert names == sorted(names, key=str.lower)
    # Selecting a row shows that image with its bars.
    row = names.index("2_blue.png")
    view.table.selectRow(row)
    assert view.detail.title.text() == "blue"
    assert view.detail.bars.top_label() == "blue"
    qtbot.waitUntil(lambda: view.preview.pixmap() is not None and not view.preview.pixmap().isNull(), timeout=5000)


def test_cancel_stops_a_long_batch_and_keeps_finished_rows(qtbot, make_window, slow_model, many_images) -> None:  # noqa: ANN001
    window = make_window([slow_model])
    total = len(list(many_images.iterdir()))
    window.open_paths([str(many_images)])
    assert window.actions.cancel.isEnabled()
    qtbot.waitUntil(lambda: window.batch_view.model.rowCount() > 0, timeout=20000)
    with qtbot.waitSignal(window.batch.finished, timeout=20000):
        window.actions.cancel.trigger()
    kept = window.batch_view.model.rowCount()
    assert 0 < kept < total
    assert "cancelled" in window.batch_view.progress_label.text()
    assert window.actions.export.isEnabled()  # what finished can still be exported
    assert all(window.batch_view.model.prediction(r).ok for r in range(kept))


def test_export_writes_the_rows_of_the_table(qtbot, make_window, batch_folder, tmp_path) -> None:  # noqa: ANN001
    window = make_window()
    _run_batch(qtbot, window, [batch_folder])
    table = [window.batch_view.model.prediction(r) for r in range(window.batch_view.model.rowCount())]
    out_csv = tmp_path / "results.csv"
    with qtbot.waitSignal(window.batch.exported, timeout=10000):
        window.batch.export(out_csv)
    with out_csv.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["path"] for r in rows] == [p.path for p in table]
    assert [r["label"] or None for r in rows] == [p.label for p in table]
    assert sum(1 for r in rows if r["error"]) == 1
    # A filtered table exports only what it shows, in its order (JSON this time).
    window.batch_view.class_filter.setCurrentIndex(window.batch_view.class_filter.findData("red"))
    out_json = tmp_path / "red.json"
    with qtbot.waitSignal(window.batch.exported, timeout=10000):
        window.batch.export(out_json)
    data = json.loads(out_json.read_text(encoding="utf-8"))
    assert sorted(Path(r["path"]).name for r in data) == ["0_red.png", "3_red.png"]
    assert {r["label"] for r in data} == {"red"}


def test_sort_into_folders_copies_by_class(qtbot, make_window, batch_folder, tmp_path) -> None:  # noqa: ANN001
    window = make_window()
    _run_batch(qtbot, window, [batch_folder])
    before = sorted(p.relative_to(batch_folder) for p in batch_folder.rglob("*"))
    dest = tmp_path / "sorted"
    with qtbot.waitSignal(window.batch.sorted, timeout=10000) as blocker:
        window.batch.sort_into(dest)
    report = blocker.args[0]
    assert report.per_class == {"red": 2, "green": 1, "blue": 2}
    assert sorted(p.name for p in (dest / "blue").iterdir()) == ["2_blue.png", "deep_blue.jpg"]
    assert sorted(p.relative_to(batch_folder) for p in batch_folder.rglob("*")) == before  # originals untouched


def test_thumbnails_load_in_the_background(qtbot, make_window, batch_folder) -> None:  # noqa: ANN001
    from PySide6.QtCore import Qt as _Qt

    from desktop_app.ui.results_table import COL_PREVIEW

    window = make_window()
    _run_batch(qtbot, window, [batch_folder])
    model = window.batch_view.model
    rows = {Path(model.prediction(r).path).name: r for r in range(model.rowCount())}

    def decoration(name: str):  # noqa: ANN202
        return model.index(rows[name], COL_PREVIEW).data(_Qt.ItemDataRole.DecorationRole)

    decoration("0_red.png")  # asks for it, like a view painting the row
    qtbot.waitUntil(lambda: decoration("0_red.png") is not None, timeout=5000)
    assert decoration("0_red.png").deviceIndependentSize().width() <= window.thumbnails.side
    decoration("broken.jpg")
    qtbot.waitUntil(lambda: "broken.jpg" not in {Path(p).name for p in window.thumbnails._pending}, timeout=5000)
    assert decoration("broken.jpg") is None  # an unreadable file has no thumbnail, and is not retried forever
