"""Start the desktop application: ``run(paths)`` is the only way in from the CLI."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from desktop_app import APP_NAME, ORGANIZATION, __version__
from desktop_app.engine.registry import assets_dir

if TYPE_CHECKING:
    from desktop_app.ui.main_window import MainWindow


def create_application(argv: Sequence[str] | None = None) -> QApplication:
    """The QApplication (reused when one exists, as under pytest-qt)."""
    QCoreApplication.setOrganizationName(ORGANIZATION)
    QCoreApplication.setApplicationName(APP_NAME)
    QCoreApplication.setApplicationVersion(__version__)
    app = QApplication.instance()
    if app is None:
        app = QApplication(list(argv) if argv is not None else sys.argv[:1])
    app.setApplicationDisplayName(APP_NAME)
    icon = assets_dir() / "icons" / "image-classifier.png"
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))
    app.setDesktopFileName("image-classifier")  # matches packaging/linux/image-classifier.desktop
    return app  # type: ignore[return-value]


def start(paths: Sequence[str] = (), *, device: str | None = None, models_dirs: Sequence[str] = ()) -> MainWindow:
    """Create the application and show the main window; ``paths`` open once models are loaded.

    ``device`` ("auto" / "cpu" / "cuda") overrides the remembered device for this session;
    ``models_dirs`` are looked in as well as the shipped and remembered model folders.
    """
    create_application()
    from desktop_app.ui.main_window import MainWindow

    window = MainWindow(device=device, extra_model_folders=list(models_dirs))
    window.show()
    if paths:
        window.open_paths([str(p) for p in paths])
    return window


def run(paths: list[str], *, device: str | None = None, models_dirs: Sequence[str] = ()) -> int:
    """Show the main window, open ``paths``, and run the event loop until the window closes.

    One image opens in the image view; several files or a folder start a batch.
    ``device`` and ``models_dirs`` come from the command line (``--device``, ``--models-dir``).
    """
    window = start(paths, device=device, models_dirs=models_dirs)  # noqa: F841 - keeps the window alive while the loop runs
    return QApplication.instance().exec()  # type: ignore[union-attr]
