"""The window's teaching commands: Models menu entries, Correct -> background re-teach (real window, real teaching).

Taught models go to a user's models folder under ``tmp_path`` (``IMAGE_CLASSIFIER_DATA``);
the backbone is the shipped ImageNet general model when the checkout has it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from desktop_app.engine.contract import read_model_info
from desktop_app.engine.taught_models import DATA_ENV, user_models_dir
from tests.teach.factory import make_class_folders, photo


@pytest.fixture(autouse=True)
def user_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(DATA_ENV, str(tmp_path / "data"))
    return tmp_path / "data"


@pytest.fixture()
def garden(tmp_path: Path, backbone: Path) -> Path:  # noqa: F811
    """A model taught from generated apples / leaves / sky folders, in the user's models folder."""
    from desktop_app.engine.teach import teach

    photos = make_class_folders(tmp_path / "photos", per_class=3)
    return teach(photos, user_models_dir() / "garden.onnx", name="Garden", backbone=backbone).path


def _window(make_window, two_models: Path, backbone: Path):  # noqa: ANN001, ANN202, F811
    window = make_window([two_models, user_models_dir()])
    window.teach.backbone = backbone
    return window


def _choose(qtbot, window, path: Path) -> None:  # noqa: ANN001
    info = window.state.model_by_path(str(path))
    assert info is not None, [str(i.path) for i in window.state.models]
    window.state.set_model(info)


def test_taught_model_in_the_user_folder_appears_in_a_fresh_window(qtbot, garden: Path) -> None:  # noqa: ANN001
    from desktop_app.ui.main_window import MainWindow
    from desktop_app.ui.settings import Settings

    window = MainWindow(Settings())  # the usual folders: shipped + the user's models folder + remembered
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.models.loaded_signal, timeout=30_000):
        window.show()
    assert user_models_dir().resolve() in window.models.registry.folders
    assert window.state.model_by_path(str(garden)) is not None
    window.close()


def test_teach_menu_entry_teaches_and_selects_the_new_model(qtbot, make_window, two_models, backbone, tmp_path) -> None:  # noqa: ANN001, F811
    window = make_window([two_models])  # the user's models folder does not exist yet
    window.teach.backbone = backbone
    assert window.actions.teach in window.actions.menus["models"].actions()
    window.actions.teach.trigger()
    dialog = window.teach.dialog
    assert dialog.isVisible() and dialog.target is None
    dialog.set_folder(make_class_folders(tmp_path / "fruit", per_class=3))
    dialog.name_edit.setText("My fruit")
    with qtbot.waitSignal(dialog.model_taught, timeout=60_000):
        dialog.teach_button.click()
    qtbot.waitUntil(
        lambda: window.state.model is not None and window.state.model.display_name == "My fruit", timeout=30_000
    )
    assert window.state.model.path == user_models_dir() / "my_fruit.onnx"
    assert window.model_bar.model_combo.currentText().startswith("My fruit")
    assert window.actions.rename_model.isEnabled() and window.actions.delete_model.isEnabled()


def test_rename_reteach_and_delete_a_taught_model(qtbot, make_window, two_models, backbone, garden, tmp_path) -> None:  # noqa: ANN001, F811
    window = _window(make_window, two_models, backbone)
    window.state.set_model(window.state.models[0])  # Colour A: not taught here, so nothing to rename
    assert window.state.model.display_name == "Colour A"
    assert not window.actions.rename_model.isEnabled() and not window.actions.delete_model.isEnabled()
    _choose(qtbot, window, garden)
    assert window.actions.rename_model.isEnabled()

    window.actions.rename_model.trigger()
    window.teach.dialog.setTextValue("Vegetable patch")
    window.teach.dialog.accept()
    qtbot.waitUntil(lambda: window.state.model.display_name == "Vegetable patch", timeout=20_000)
    assert window.state.model.path == garden and read_model_info(garden).display_name == "Vegetable patch"

    # Re-teach with more photos: the dialog opens on the recorded folder, writes the same file.
    photos = tmp_path / "photos"
    for i in range(2):
        photo((60, 90, 210), seed=900 + i).save(photos / "sky" / f"more_{i}.png")
    window.actions.reteach_model.trigger()
    dialog = window.teach.dialog
    assert dialog.target == garden and not dialog.name_edit.isEnabled()
    assert dialog.folder_edit.text() == str(photos)
    assert dialog.classes.item(2, 1).text() == "5"
    with qtbot.waitSignal(dialog.model_taught, timeout=60_000):
        dialog.teach_button.click()
    qtbot.waitUntil(lambda: window.state.model.training["photos"]["sky"] == 5, timeout=20_000)
    assert window.state.model.display_name == "Vegetable patch"
    dialog.close()

    # Delete asks first: Cancel keeps the file, Yes deletes it (the photos stay).
    window.actions.delete_model.trigger()
    box = window.teach.dialog
    assert "Delete Vegetable patch?" in box.text()
    box.button(box.StandardButton.Cancel).click()
    assert garden.exists()
    window.actions.delete_model.trigger()
    window.teach.dialog.button(box.StandardButton.Yes).click()
    qtbot.waitUntil(lambda: not garden.exists() and window.state.model_by_path(str(garden)) is None, timeout=20_000)
    assert window.state.model is not None and window.state.model.display_name.startswith("Colour")
    assert len(list((photos / "sky").iterdir())) == 5


def test_delete_refuses_a_file_the_app_did_not_write(qtbot, make_window, two_models, backbone) -> None:  # noqa: ANN001, F811
    window = _window(make_window, two_models, backbone)
    colour = window.state.models[0]
    with qtbot.waitSignal(window.state.dialog, timeout=10_000) as warning:
        window.teach.delete(colour)  # even when asked directly, the engine refuses
    assert "was not taught by this app" in warning.args[2]
    assert Path(colour.path).exists()


def test_correct_the_image_result_adds_the_photo_and_reteaches(
    qtbot, make_window, two_models, backbone, garden, tmp_path
) -> None:  # noqa: ANN001, F811
    window = _window(make_window, two_models, backbone)
    _choose(qtbot, window, garden)
    berry = tmp_path / "outside" / "berry.png"
    berry.parent.mkdir()
    photo((150, 30, 150), seed=5).save(berry)
    with qtbot.waitSignal(window.single.shown, timeout=20_000):
        window.open_paths([str(berry)])
    assert window.actions.correct_image.isEnabled()
    button = next(
        b
        for b in window.single_view.result.findChildren(type(window.batch_view.cancel_button))
        if b.defaultAction() is window.actions.correct_image
    )
    assert button.isVisibleTo(window.single_view.result)

    window.actions.correct_image.trigger()
    dialog = window.teach.dialog
    assert "Garden said" in dialog.labelText()
    dialog.setTextValue("berries")  # a new class
    with qtbot.waitSignal(window.teach.retaught, timeout=60_000):
        dialog.accept()
        assert "teaching Garden again" in window.statusBar().currentMessage()
    assert (tmp_path / "photos" / "berries" / "berry.png").is_file() and berry.is_file()  # copied, not moved
    # The next result comes from the re-taught model: it knows the new class.
    qtbot.waitUntil(
        lambda: (
            window.last_prediction is not None
            and window.last_prediction.probabilities is not None
            and len(window.last_prediction.probabilities) == 4
        ),
        timeout=30_000,
    )
    assert window.state.model.labels == ("apples", "berries", "leaves", "sky") or list(window.state.model.labels) == [
        "apples",
        "berries",
        "leaves",
        "sky",
    ]
    assert "taught again" in window.statusBar().currentMessage()


def test_correct_a_batch_row(qtbot, make_window, two_models, backbone, garden, tmp_path) -> None:  # noqa: ANN001, F811
    window = _window(make_window, two_models, backbone)
    _choose(qtbot, window, garden)
    folder = tmp_path / "new"
    folder.mkdir()
    for i in range(2):
        photo((60, 90, 210), seed=700 + i).save(folder / f"blue_{i}.png")
    with qtbot.waitSignal(window.batch.finished, timeout=30_000):
        window.open_paths([str(folder)])
    assert not window.actions.correct_row.isEnabled()  # no row selected
    window.batch_view.table.selectRow(0)
    assert window.actions.correct_row.isEnabled()
    row = window.batch_view.model.prediction(
        window.batch_view.proxy.mapToSource(window.batch_view.table.selectionModel().selectedRows()[0]).row()
    )
    window.actions.correct_row.trigger()
    window.teach.dialog.setTextValue("leaves")
    with qtbot.waitSignal(window.teach.retaught, timeout=60_000):
        window.teach.dialog.accept()
    assert (tmp_path / "photos" / "leaves" / Path(row.path).name).is_file()
    qtbot.waitUntil(lambda: window.state.model.training["photos"]["leaves"] == 4, timeout=20_000)
    assert window.batch_view.rerun_button.isVisibleTo(window.batch_view)  # the batch can be re-run with it


def test_correct_is_off_for_models_not_taught_here(qtbot, make_window, images) -> None:  # noqa: ANN001
    window = make_window()
    with qtbot.waitSignal(window.single.shown, timeout=20_000):
        window.open_paths([str(images["red"])])
    assert not window.actions.correct_image.isEnabled()
    assert not window.actions.rename_model.isEnabled()


def test_a_photo_from_the_training_set_moves_to_its_right_class(tmp_path: Path) -> None:
    from desktop_app.ui.teach_controller import add_to_class

    photos = make_class_folders(tmp_path / "photos", per_class=2)
    wrong = photos / "apples" / "apples_0.png"
    assert add_to_class(wrong, photos, "sky") == photos / "sky" / "apples_0.png"
    assert not wrong.exists()  # never taught as two classes at once
    assert add_to_class(photos / "sky" / "apples_0.png", photos, "sky") is None  # already there
    outside = tmp_path / "x.png"
    Image.new("RGB", (8, 8)).save(outside)
    (photos / "sky" / "x.png").write_bytes(b"taken")
    assert add_to_class(outside, photos, "sky") == photos / "sky" / "x (2).png" and outside.exists()


def test_corrections_during_a_reteach_are_taught_in_one_more_round(
    qtbot, make_window, two_models, backbone, garden, tmp_path
) -> None:  # noqa: ANN001, F811
    window = _window(make_window, two_models, backbone)
    _choose(qtbot, window, garden)
    info = window.state.model
    extra = []
    for i in range(2):
        extra.append(tmp_path / f"extra_{i}.png")
        photo((60, 90, 210), seed=800 + i).save(extra[-1])
    finished: list[str] = []
    window.teach.retaught.connect(finished.append)
    window.teach.correct(str(extra[0]), info, "sky")
    assert window.teach.busy
    window.teach.correct(str(extra[1]), info, "sky")  # while the first re-teach runs: queued
    qtbot.waitUntil(lambda: len(finished) == 2 and not window.teach.busy, timeout=90_000)
    assert read_model_info(garden).training["photos"]["sky"] == 5
