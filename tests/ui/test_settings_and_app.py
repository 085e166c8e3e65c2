"""Settings survive re-creating the window; ``run(paths)`` opens with the images classified."""

from __future__ import annotations

from desktop_app.ui.settings import Settings
from tests.model_factory import colour_metadata, make_classifier


def test_settings_persist_across_window_re_creation(qtbot, make_window, two_models, tmp_path) -> None:  # noqa: ANN001
    window = make_window()
    combo = window.model_bar.model_combo
    combo.setCurrentIndex(combo.findText("Colour B (swapped) (50.00%)"))
    window.model_bar.device_combo.setCurrentIndex(window.model_bar.device_combo.findData("cpu"))
    window.resize(640, 480)  # inside the 800 x 600 offscreen screen
    window.settings.set_last_dir("folder", tmp_path)
    window.close()

    again = make_window()
    assert again.model_bar.model_combo.currentText().startswith("Colour B")
    assert again.models.current.display_name == "Colour B (swapped)"
    assert again.model_bar.device() == "cpu"
    assert (again.width(), again.height()) == (640, 480)
    assert Settings().last_dir("folder") == str(tmp_path)


def test_settings_are_isolated_per_test() -> None:
    settings = Settings()
    assert settings.model_path == "" and settings.device == "auto" and settings.model_folders == []


def test_settings_folder_list_round_trip() -> None:
    settings = Settings()
    settings.model_folders = ["/a"]
    assert Settings().model_folders == ["/a"]
    settings.model_folders = ["/a", "/b", "/a"]
    assert Settings().model_folders == ["/a", "/b"]


def test_start_opens_with_the_given_image_classified(qtbot, two_models, images, monkeypatch) -> None:  # noqa: ANN001
    """``run([path])`` = ``start([path])`` + the event loop: the image is classified without user action."""
    from desktop_app.ui import app as app_module
    from desktop_app.ui.models_controller import ModelsController

    monkeypatch.setattr(ModelsController, "folders", lambda self: [two_models])
    window = app_module.start([str(images["blue"])])
    qtbot.addWidget(window)
    assert window.isVisible()  # models load with the window (cache warm) or after it (cold), never before it
    qtbot.waitUntil(lambda: window.last_prediction is not None, timeout=10000)
    assert window.last_prediction.label == "blue"
    assert window.single_view.result.title.text() == "blue"
    window.close()


def test_start_with_a_folder_starts_a_batch(qtbot, two_models, batch_folder, monkeypatch) -> None:  # noqa: ANN001
    from desktop_app.ui import app as app_module
    from desktop_app.ui.models_controller import ModelsController

    monkeypatch.setattr(ModelsController, "folders", lambda self: [two_models])
    window = app_module.start([str(batch_folder)])
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.batch.finished, timeout=10000):
        pass
    assert window.batch_view.model.rowCount() == 6
    window.close()


def test_settings_file_is_in_the_test_folder(isolated_settings) -> None:  # noqa: ANN001
    settings = Settings()
    settings.device = "cpu"
    settings.sync()
    assert settings.qsettings.fileName().startswith(str(isolated_settings))


def test_first_start_selects_the_most_accurate_model(qtbot, make_window, tmp_path) -> None:  # noqa: ANN001
    """Not the alphabetically first: "A weak" sorts first but "B strong" scores higher."""
    folder = tmp_path / "models"
    for name, accuracy in (("A weak", 0.4), ("B strong", 0.8)):
        make_classifier(
            folder / f"{name[0].lower()}.onnx",
            metadata=colour_metadata(display_name=name, metrics={"test_accuracy": accuracy}),
        )
    window = make_window([folder])
    assert window.model_bar.model_combo.itemText(0).startswith("A weak")
    assert window.models.current.display_name == "B strong"
    assert window.settings.model_path == str(folder / "b.onnx")


def test_start_takes_the_command_line_device_and_models_dirs(qtbot, two_models, images) -> None:  # noqa: ANN001
    """``image-classifier --device cpu --models-dir DIR PHOTO`` reaches the window."""
    from desktop_app.ui import app as app_module

    window = app_module.start([str(images["red"])], device="cpu", models_dirs=[str(two_models)])
    qtbot.addWidget(window)
    assert window.state.device == "cpu" and window.model_bar.device() == "cpu"
    assert window.models.folders()[-1] == two_models
    qtbot.waitUntil(lambda: window.last_prediction is not None, timeout=20000)
    assert window.status.provider.text() == "Running on CPU"
    window.close()


def test_a_task_finishing_after_its_window_closed_reaches_nothing(qtbot, two_models) -> None:  # noqa: ANN001
    """A slow model load that ends after its window closed, as the window is deleted, must not reach
    the deleted widgets (it did: 'Internal C++ object (QLabel) already deleted', in a later test)."""
    import threading

    from PySide6.QtCore import QCoreApplication, QEvent

    from desktop_app.ui.main_window import MainWindow
    from desktop_app.ui.workers import Task

    window = MainWindow(Settings(), model_folders=[two_models])  # not qtbot's: this test deletes it
    with qtbot.waitSignal(window.models.loaded_signal, timeout=10000):
        window.show()
    qtbot.waitUntil(lambda: window.pool.activeThreadCount() == 0, timeout=10000)  # the start's model load
    qtbot.wait(50)  # ... and its result delivered
    label = window.status.provider
    release, reached = threading.Event(), []
    task = Task(release.wait, 10)
    task.signals.result.connect(lambda _value: reached.append(label.text()))
    window.run_task(task)
    window.close()
    threading.Timer(0.3, release.set).start()
    window.deleteLater()
    # Deleting the window waits for its pool, so the task's result is queued while it goes.
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert release.is_set()
    qtbot.wait(300)  # a result still queued would be delivered here
    assert reached == []
