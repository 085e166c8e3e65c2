"""Typed access to the app's QSettings: model, device, geometry, folders.

One small wrapper so that keys and types live in one place; tests switch the
default format to INI and point it at a temporary folder
(``QSettings.setDefaultFormat`` + ``QSettings.setPath``) and get a fresh store.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from desktop_app import APP_NAME, ORGANIZATION


def _as_list(value: object) -> list[str]:
    # QSettings (INI) returns a single str for a one-element list and None for an empty one.
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]  # type: ignore[union-attr]


class Settings:
    """What the app remembers between runs."""

    def __init__(self, qsettings: QSettings | None = None) -> None:
        if qsettings is None:
            # defaultFormat() is the native store (registry, plist, .conf) unless a test
            # switched it to INI files in a temporary folder, on every OS.
            qsettings = QSettings(QSettings.defaultFormat(), QSettings.Scope.UserScope, ORGANIZATION, APP_NAME)
        self._s = qsettings

    @property
    def qsettings(self) -> QSettings:
        return self._s

    def _str(self, key: str, default: str = "") -> str:
        value = self._s.value(key, default)
        return str(value) if value is not None else default

    # --- model and device -------------------------------------------------
    @property
    def model_path(self) -> str:
        """Path of the last chosen model ("" when none was chosen yet)."""
        return self._str("model/path")

    @model_path.setter
    def model_path(self, value: str) -> None:
        self._s.setValue("model/path", value)

    @property
    def device(self) -> str:
        """ "auto", "cpu" or "cuda"."""
        return self._str("model/device", "auto")

    @device.setter
    def device(self, value: str) -> None:
        self._s.setValue("model/device", value)

    @property
    def model_folders(self) -> list[str]:
        """Folders the user added with "Add models folder..."."""
        return _as_list(self._s.value("model/folders", []))

    @model_folders.setter
    def model_folders(self, folders: list[str]) -> None:
        self._s.setValue("model/folders", list(dict.fromkeys(folders)))

    @property
    def scope_check(self) -> bool:
        """Whether the scope / novelty check runs beside the model (on unless turned off)."""
        value = self._s.value("model/scope_check", True)
        return value not in (False, "false", "0", 0)

    @scope_check.setter
    def scope_check(self, on: bool) -> None:
        self._s.setValue("model/scope_check", bool(on))

    # --- window -----------------------------------------------------------
    @property
    def geometry(self) -> QByteArray | None:
        value = self._s.value("window/geometry")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    @geometry.setter
    def geometry(self, value: QByteArray) -> None:
        self._s.setValue("window/geometry", value)

    @property
    def window_state(self) -> QByteArray | None:
        value = self._s.value("window/state")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    @window_state.setter
    def window_state(self, value: QByteArray) -> None:
        self._s.setValue("window/state", value)

    # --- last folders (per dialog kind: "image", "folder", "export", "sort", "models") --
    def last_dir(self, kind: str) -> str:
        """The folder a file dialog of this kind last used, or the home folder."""
        value = self._str(f"folders/{kind}")
        return value if value and Path(value).is_dir() else str(Path.home())

    def set_last_dir(self, kind: str, path: str | Path) -> None:
        path = Path(path)
        self._s.setValue(f"folders/{kind}", str(path if path.is_dir() else path.parent))

    def sync(self) -> None:
        self._s.sync()
