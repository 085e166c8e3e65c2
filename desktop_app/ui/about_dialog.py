"""About: versions of the app and its runtime stack, and the execution providers available."""

from __future__ import annotations

import platform
from importlib import metadata

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, qVersion
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from desktop_app import APP_NAME, __version__


def _dist_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def about_lines() -> list[tuple[str, str]]:
    """(component, version or detail) pairs shown in the dialog."""
    import numpy
    import onnxruntime
    from PIL import __version__ as pillow_version

    from desktop_app.engine.sessions import available_providers, runtime_warnings

    packages = [n for n in ("onnxruntime", "onnxruntime-gpu") if _dist_version(n) != "not installed"]
    lines = [
        (APP_NAME, __version__),
        ("Python", platform.python_version()),
        ("Qt / PySide6", f"{qVersion()} / {pyside_version}"),
        ("onnxruntime", f"{onnxruntime.__version__} (package: {', '.join(packages) or 'bundled'})"),
        ("NumPy", numpy.__version__),
        ("Pillow", pillow_version),
        ("Execution providers", ", ".join(available_providers()) or "none"),
        ("System", f"{platform.system()} {platform.release()} ({platform.machine()})"),
    ]
    lines += [("Warning", w) for w in runtime_warnings()]
    return lines


class AboutDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"About {APP_NAME}")
        rows = "".join(f"<tr><td><b>{k}</b></td><td>&nbsp;{v}</td></tr>" for k, v in about_lines())
        text = QLabel(
            f"<h2>{APP_NAME}</h2><p>Classifies images with ONNX models on the CPU or an NVIDIA GPU.</p>"
            f"<table>{rows}</table>",
            self,
        )
        text.setTextFormat(Qt.TextFormat.RichText)
        text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        text.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(buttons)
