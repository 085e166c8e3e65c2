"""Settings survive re-creating the window; ``run(paths)`` opens with the images classified."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from desktop_app.ui.settings import Settings


def test_settings_persist_across_window_re_creation(qtbot, make_window, two_models, tmp_path) -> None:  # noqa: ANN001
    window = make_window()
    combo = window.model_bar.model_combo
    combo.setCurrentIndex(combo.findText("Colour B (swapped) (50.0% test accuracy)"))
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


def test_run_opens_with_the_given_image_classified(qtbot, two_models, images, monkeypatch) -> None:  # noqa: ANN001
    """``run([path])`` shows the window and classifies the image before the user does anything."""
    from desktop_app.ui import app as app_module
    from desktop_app.ui import main_window

    Settings().model_folders = [str(two_models)]
    monkeypatch.setattr(main_window.ModelsController, "folders", lambda self: [two_models])
    seen = {}

    def check() -> None:
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, main_window.MainWindow) and w.isVisible()]
        if windows and windows[0].last_prediction is not None:
            seen["label"] = windows[0].last_prediction.label
            windows[0].close()
            QApplication.instance().quit()
        else:
            QTimer.singleShot(20, check)

    QTimer.singleShot(0, check)
    QTimer.singleShot(15000, QApplication.instance().quit)  # safety net: never hang the suite
    assert app_module.run([str(images["blue"])]) == 0
    assert seen == {"label": "blue"}
