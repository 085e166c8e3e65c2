"""The real main window on single images: drop, paste, model switch, device, compare, dialogs."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImage
from PySide6.QtWidgets import QApplication

from desktop_app.ui.drop_area import PLACEHOLDER
from tests.model_factory import colour_metadata, make_classifier


def _mime(*paths: Path) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return mime


def _drop(widget, mime: QMimeData) -> None:  # noqa: ANN001
    """Deliver a real drag-enter + drop event pair to ``widget``."""
    actions = Qt.DropAction.CopyAction
    buttons, modifiers = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    try:  # PySide6 >= 6.12 takes a QPointF (the QPoint form is deprecated there)
        enter = QDragEnterEvent(QPointF(10, 10), actions, mime, buttons, modifiers)
    except TypeError:
        enter = QDragEnterEvent(QPoint(10, 10), actions, mime, buttons, modifiers)
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(10, 10), actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, drop)
    assert drop.isAccepted()


def _classify_by_drop(qtbot, window, path: Path):  # noqa: ANN001, ANN202
    with qtbot.waitSignal(window.prediction_shown, timeout=10000) as blocker:
        _drop(window.single_view.drop_area, _mime(path))
    return blocker.args[0]


def test_drop_of_red_png_shows_red(qtbot, make_window, images) -> None:  # noqa: ANN001
    window = make_window()
    prediction = _classify_by_drop(qtbot, window, images["red"])
    panel = window.single_view.result
    assert prediction.label == "red"
    assert panel.title.text() == "red"
    assert panel.bars.top_label() == "red"
    assert [label for label, _ in panel.bars.values()] == ["red", "green", "blue"]
    assert dict(panel.bars.values())["red"] > 0.9
    qtbot.waitUntil(lambda: window.single_view.drop_area.image() is not None, timeout=5000)
    assert window.single_view.drop_area.image().width() == 48  # preview keeps the image's own shape
    assert "Running on CPU" in window.status.provider.text()
    assert window.status.timing.text().endswith(" ms")


def test_switching_model_reclassifies_and_updates_bars(qtbot, make_window, images) -> None:  # noqa: ANN001
    window = make_window()
    _classify_by_drop(qtbot, window, images["red"])
    before = window.single_view.result.bars.values()
    combo = window.model_bar.model_combo
    assert [combo.itemText(i) for i in range(combo.count())] == [
        "Colour A (90.00%)",
        "Colour B (swapped) (50.00%)",
    ]
    with qtbot.waitSignal(window.prediction_shown, timeout=10000) as blocker:
        combo.setCurrentIndex(1)
    after = window.single_view.result.bars.values()
    assert blocker.args[0].label == "blue"  # red and blue weights are swapped in model B
    assert window.single_view.result.bars.top_label() == "blue"
    assert dict(after)["blue"] > 0.9 and dict(before)["blue"] < 0.1


def test_unreadable_single_file_shows_the_reason(qtbot, make_window, tmp_path) -> None:  # noqa: ANN001
    window = make_window()
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    prediction = _classify_by_drop(qtbot, window, bad)
    assert prediction.error
    assert window.single_view.result.title.text() == "Cannot read this image"
    assert "notes.png" in window.single_view.result.subtitle.text()


def test_pasted_clipboard_image_is_classified(qtbot, make_window) -> None:  # noqa: ANN001
    window = make_window()
    image = QImage(40, 30, QImage.Format.Format_RGB32)
    image.fill(Qt.GlobalColor.green)
    QApplication.clipboard().setImage(image)
    with qtbot.waitSignal(window.prediction_shown, timeout=10000) as blocker:
        window.actions.paste.trigger()
    assert blocker.args[0].label == "green"
    assert Path(window.current_path).suffix == ".png"


def test_device_choice_cpu_runs_on_cpu(qtbot, make_window, images) -> None:  # noqa: ANN001
    window = make_window()
    _classify_by_drop(qtbot, window, images["blue"])
    combo = window.model_bar.device_combo
    with qtbot.waitSignal(window.prediction_shown, timeout=10000):
        combo.setCurrentIndex(combo.findData("cpu"))
    assert window.settings.device == "cpu"
    assert window.status.provider.text() == "Running on CPU"


def test_compare_view_lists_every_model(qtbot, make_window, images) -> None:  # noqa: ANN001
    window = make_window()
    assert not window.actions.compare.isEnabled()  # nothing to compare before an image is open
    _classify_by_drop(qtbot, window, images["red"])
    assert window.actions.compare.isEnabled()
    window.actions.compare.trigger()
    dialog = window.models.compare_dialog
    qtbot.waitUntil(lambda: all(card.prediction is not None for card in dialog.cards), timeout=10000)
    names = sorted(card.info.display_name for card in dialog.cards)
    assert names == ["Colour A", "Colour B (swapped)"]
    verdicts = {card.info.display_name: card.verdict.text() for card in dialog.cards}
    assert verdicts == {"Colour A": "red", "Colour B (swapped)": "blue"}
    assert "1 of 2 models" in dialog.summary.text()
    dialog.grab()  # paints the compact bars


def test_model_details_dialog_shows_metrics_and_heatmap(qtbot, make_window) -> None:  # noqa: ANN001
    window = make_window()
    window.actions.model_info.trigger()
    dialog = window.models._details
    qtbot.addWidget(dialog)
    assert dialog.per_class_table.rowCount() == 3
    assert dialog.per_class_table.item(0, 0).text() == "red"
    assert dialog.per_class_table.item(0, 3).text() == "0.900"
    assert dialog.heatmap.matrix[0] == [9, 1, 1]
    dialog.tabs.setCurrentIndex(2)
    assert not dialog.grab().isNull()


def test_model_details_say_how_the_file_is_stored(tmp_path) -> None:  # noqa: ANN001
    from desktop_app.engine.contract import read_model_info
    from desktop_app.ui.model_dialog import overview_rows

    plain = make_classifier(tmp_path / "plain.onnx")
    reduced = make_classifier(
        tmp_path / "reduced.onnx",
        metadata=colour_metadata(training={"export": {"reduction": "int8", "float32_test_accuracy": 0.9123}}),
    )
    rows = dict(overview_rows(read_model_info(plain)))
    assert rows["Stored as"] == f"float32, {plain.stat().st_size / 2**20:.1f} MiB"
    rows = dict(overview_rows(read_model_info(reduced)))
    assert rows["Stored as"].startswith("int8, ") and rows["Stored as"].endswith(
        "MiB (the float32 model: 91.23% test accuracy)"
    )


def test_empty_models_folder_shows_empty_state(qtbot, make_window, tmp_path, images) -> None:  # noqa: ANN001
    empty = tmp_path / "no-models"
    empty.mkdir()
    window = make_window([empty])
    message = window.single_view.drop_area._message
    assert message.startswith("No models found") and str(empty.resolve()) in message
    assert not window.model_bar.model_combo.isEnabled()
    window.open_paths([str(images["red"])])
    assert window.single_view.result.title.text() == "No model"


def test_broken_model_does_not_stop_start_up(qtbot, make_window, tmp_path, two_models) -> None:  # noqa: ANN001
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "garbage.onnx").write_bytes(b"not a model")
    (folder / "a.onnx").write_bytes((two_models / "colour_a.onnx").read_bytes())
    window = make_window([folder, tmp_path / "missing-folder"])
    assert window.model_bar.model_combo.count() == 1
    assert "refused" in window.statusBar().currentMessage()
    assert "garbage.onnx" in window.model_bar.model_combo.toolTip()
    assert window.single_view.drop_area._message.startswith(PLACEHOLDER)
    assert "This model knows 3 classes: red, green, blue" in window.single_view.drop_area._message


def test_add_models_folder_lists_refused_files(qtbot, make_window, tmp_path) -> None:  # noqa: ANN001
    from desktop_app.ui.models_controller import folder_report_text
    from tests.model_factory import colour_metadata, make_classifier

    window = make_window()
    extra = tmp_path / "mine"
    make_classifier(extra / "mine.onnx", metadata=colour_metadata(display_name="My model"))
    make_classifier(extra / "nolabels.onnx", omit_labels=True)
    with qtbot.waitSignal(window.models.folder_added, timeout=10000) as blocker:
        window.models.add_folder(extra)
    added, refused = blocker.args
    assert [info.display_name for info in added] == ["My model"]
    assert [p.name for p, _ in refused] == ["nolabels.onnx"]
    combo = window.model_bar.model_combo
    assert combo.count() == 3 and combo.currentText() == "My model (90.00%)"
    text = folder_report_text(extra, added, refused)
    assert "nolabels.onnx: metadata has no 'labels'" in text
    assert str(extra.resolve()) in window.settings.model_folders


def test_about_lists_execution_providers() -> None:
    from desktop_app.ui.about_dialog import about_lines

    lines = dict(about_lines())
    assert "CPUExecutionProvider" in lines["Execution providers"]
    assert lines["Qt / PySide6"]


def test_unsure_prediction_is_not_shown_as_a_confident_word(qtbot, make_window, tmp_path) -> None:  # noqa: ANN001
    from PIL import Image

    grey = tmp_path / "grey.png"
    Image.new("RGB", (20, 20), (128, 128, 128)).save(grey)  # equal evidence for every colour
    window = make_window()
    prediction = _classify_by_drop(qtbot, window, grey)
    assert prediction.unsure
    assert window.single_view.result.title.text() == "Not sure"
    assert f"Best guess: {prediction.label}" in window.single_view.result.subtitle.text()


def test_cuda_request_without_cuda_says_so_in_the_status_bar(qtbot, make_window, images) -> None:  # noqa: ANN001
    import pytest

    from desktop_app.engine.sessions import available_providers

    if "CUDAExecutionProvider" in available_providers():
        pytest.skip("CUDA is available here: there is no fallback to report")
    window = make_window()
    _classify_by_drop(qtbot, window, images["red"])
    combo = window.model_bar.device_combo
    with qtbot.waitSignal(window.prediction_shown, timeout=10000):
        combo.setCurrentIndex(combo.findData("cuda"))
    assert window.status.provider.text() == "Running on CPU"
    assert not window.status.notice.isHidden()
    assert "CUDA" in window.status.notice.text() and "CUDA" in window.status.notice.toolTip()


def test_preview_follows_exif_orientation(tmp_path) -> None:  # noqa: ANN001
    from PIL import Image

    from desktop_app.ui.qt_images import read_qimage

    path = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    Image.new("RGB", (40, 20), (200, 10, 10)).save(path, exif=exif)
    image = read_qimage(path, 1000)
    assert (image.width(), image.height()) == (20, 40)
    small = read_qimage(path, 10)
    assert max(small.width(), small.height()) == 10


def test_preview_falls_back_to_the_engine_decoder_for_cmyk_jpeg(tmp_path) -> None:  # noqa: ANN001
    from PIL import Image

    from desktop_app.ui.qt_images import read_qimage

    path = tmp_path / "cmyk.jpg"
    Image.new("CMYK", (30, 10), (0, 255, 255, 0)).save(path)
    image = read_qimage(path, 100)
    assert not image.isNull() and (image.width(), image.height()) == (30, 10)
    assert read_qimage(tmp_path / "missing.png", 100).isNull()


def test_main_actions_have_shortcuts_and_tooltips(make_window) -> None:  # noqa: ANN001
    from PySide6.QtGui import QKeySequence

    window = make_window()
    a = window.actions
    assert a.open_image.shortcut() == QKeySequence(QKeySequence.StandardKey.Open)
    assert a.open_folder.shortcut() == QKeySequence("Ctrl+Shift+O")
    for action in (a.open_image, a.open_folder, a.paste, a.export, a.sort_folders, a.cancel, a.compare, a.model_info):
        assert not action.shortcut().isEmpty() and action.toolTip()


def test_drop_anywhere_on_the_window_is_accepted(qtbot, make_window, images) -> None:  # noqa: ANN001
    window = make_window()
    window.tabs.setCurrentWidget(window.batch_view)
    with qtbot.waitSignal(window.prediction_shown, timeout=10000) as blocker:
        _drop(window, _mime(images["green"]))
    assert blocker.args[0].label == "green"
    assert window.tabs.currentWidget() is window.single_view


def test_non_ascii_file_name(qtbot, make_window, tmp_path) -> None:  # noqa: ANN001
    from PIL import Image

    path = tmp_path / "rød kat ✓.png"
    Image.new("RGB", (30, 30), (250, 5, 5)).save(path)
    window = make_window()
    assert _classify_by_drop(qtbot, window, path).label == "red"
