"""The standalone "Teach a new model" dialog (real widgets, offscreen, real teaching on the stand-in)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from desktop_app.engine.contract import read_model_info  # noqa: E402
from desktop_app.ui.teach_dialog import TeachDialog  # noqa: E402
from tests.teach.factory import make_class_folders  # noqa: E402


@pytest.fixture()
def dialog(qtbot, tmp_path: Path, stand_in: Path) -> TeachDialog:  # type: ignore[no-untyped-def]
    widget = TeachDialog(models_dir=tmp_path / "models", backbone=stand_in)
    qtbot.addWidget(widget)
    return widget


def test_folder_shows_classes_counts_and_thumbnails(dialog: TeachDialog, tmp_path: Path) -> None:
    root = make_class_folders(tmp_path / "garden", per_class=3)
    (root / "empty").mkdir()
    dialog.set_folder(root)
    assert [dialog.classes.item(r, 0).text() for r in range(3)] == ["apples", "leaves", "sky"]
    assert dialog.classes.item(0, 1).text() == "3"
    strip = dialog.classes.cellWidget(0, 2)
    assert len([c for c in strip.children() if hasattr(c, "pixmap") and not c.pixmap().isNull()]) == 3
    assert "'empty' has no images" in dialog.problem.text()
    assert dialog.name_edit.text() == "garden" and dialog.teach_button.isEnabled()


def test_a_folder_without_classes_cannot_be_taught(dialog: TeachDialog, tmp_path: Path) -> None:
    (tmp_path / "flat").mkdir()
    dialog.set_folder(tmp_path / "flat")
    assert "at least 2 subfolders" in dialog.problem.text()
    assert not dialog.teach_button.isEnabled()


def test_teach_shows_summary_and_emits_the_model(qtbot, dialog: TeachDialog, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dialog.set_folder(make_class_folders(tmp_path / "garden"))
    dialog.name_edit.setText("Garden")
    with qtbot.waitSignal(dialog.model_taught, timeout=30_000) as signal:
        dialog.teach_button.click()
    path = Path(signal.args[0])
    assert path == tmp_path / "models" / "garden.onnx"
    assert read_model_info(path).display_name == "Garden"
    assert dialog.pages.currentIndex() == 2
    assert "ready: right on" in dialog.accuracy_label.text()
    assert dialog.recall.rowCount() == 3 and dialog.recall.item(0, 1).text().endswith("%")
    assert dialog.mistakes.count() == len(dialog.result.misclassified)
    # A second model with the same name never overwrites the first.
    assert dialog.output_path() == tmp_path / "models" / "garden_2.onnx"


def test_cancel_returns_to_the_folder_and_writes_nothing(qtbot, dialog: TeachDialog, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dialog.set_folder(make_class_folders(tmp_path / "garden", per_class=30))
    dialog.start()
    dialog.cancel()
    qtbot.waitUntil(lambda: dialog.worker is None, timeout=30_000)
    assert dialog.pages.currentIndex() == 0
    assert "cancelled" in dialog.problem.text()
    assert not (tmp_path / "models").exists() or not list((tmp_path / "models").glob("*.onnx"))


def test_reteach_writes_the_same_file_with_its_name(qtbot, tmp_path: Path, stand_in: Path) -> None:  # type: ignore[no-untyped-def]
    from desktop_app.engine.teach import teach

    root = make_class_folders(tmp_path / "garden", per_class=2)
    target = teach(root, tmp_path / "models" / "mine.onnx", name="Mine", backbone=stand_in).path
    make_class_folders(root, per_class=3)  # one more photo per class
    dialog = TeachDialog(models_dir=tmp_path / "models", backbone=stand_in, target=target, folder=root, name="Mine")
    qtbot.addWidget(dialog)
    assert dialog.windowTitle() == "Re-teach model" and not dialog.name_edit.isEnabled()
    with qtbot.waitSignal(dialog.model_taught, timeout=30_000) as signal:
        dialog.start()
    assert Path(signal.args[0]) == target
    info = read_model_info(target)
    assert info.display_name == "Mine" and info.training["photos"] == {"apples": 3, "leaves": 3, "sky": 3}
