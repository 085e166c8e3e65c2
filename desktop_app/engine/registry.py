"""Model discovery: the shipped models plus any folders the user adds.

Each folder is scanned for ``*.onnx`` files in the folder itself and in its
direct sub-folders (one level, so ``models/mine/model.onnx`` is found but a
whole disk is never walked). Every file is checked against the contract
(its metadata read once per file version: engine/model_cache.py);
broken files are listed in :attr:`ModelRegistry.refused` with the reason and
never stop the others from loading.

Name collisions: a model's command-line name is its file stem. When two files
share a stem, the one from the folder added first wins the plain name (the
shipped folder is first by default); the later one is still listed and is
reachable by its path or as ``"<folder name>/<stem>"``.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from desktop_app.engine.contract import ModelContractError, ModelInfo

log = logging.getLogger(__name__)

#: The shipped model the app starts with (see :meth:`ModelRegistry.default_model`).
DEFAULT_MODEL = "efficientnet_lite0"


def assets_dir() -> Path:
    """``assets/`` of the source tree, or inside a PyInstaller bundle (``sys._MEIPASS``)."""
    bundle = getattr(sys, "_MEIPASS", None)
    root = Path(bundle) if bundle else Path(__file__).resolve().parents[2]
    return root / "assets"


def shipped_models_dir() -> Path:
    """``assets/models``: the models that ship with the app."""
    return assets_dir() / "models"


def find_model_files(folder: Path) -> list[Path]:
    """``*.onnx`` and ``*.derived`` (desktop_app.engine.derived) in ``folder`` and its direct sub-folders, sorted."""
    try:
        files = [p for pattern in ("*.onnx", "*/*.onnx", "*.derived", "*/*.derived") for p in folder.glob(pattern)]
    except OSError as exc:
        log.warning("cannot list %s: %s", folder, exc)
        return []
    return sorted(p for p in files if p.is_file())


class ModelRegistry:
    """Valid models and refused files found in a list of folders."""

    def __init__(self, folders: Sequence[str | Path] | None = None) -> None:
        self._folders: list[Path] = []
        self._models: dict[Path, ModelInfo] = {}
        self._refused: dict[Path, str] = {}
        for folder in [shipped_models_dir()] if folders is None else folders:
            self.add_folder(folder)

    @property
    def folders(self) -> list[Path]:
        return list(self._folders)

    @property
    def models(self) -> list[ModelInfo]:
        """Valid models sorted by display name (then path, for a stable order)."""
        return sorted(self._models.values(), key=lambda m: (m.display_name.lower(), str(m.path)))

    def most_accurate(self) -> ModelInfo | None:
        """The valid model with the highest recorded test accuracy (unrecorded ones last); None if none."""
        return max(self.models, key=lambda m: m.test_accuracy if m.test_accuracy is not None else -1.0, default=None)

    def default_model(self) -> ModelInfo | None:
        """The model to start with wherever the user has not chosen: the command line and the window's first start.

        :data:`DEFAULT_MODEL` (the EfficientNet-Lite0 transfer model) when it is
        found with the general model beside it for its scope check: on real
        photos it is the trained model that serves users best (docs/app.md,
        "Which model the app starts with"). Otherwise :meth:`most_accurate`.
        """
        from desktop_app.engine.scope import find_general_model, has_scope_check

        preferred = self._by_name().get(DEFAULT_MODEL)
        if preferred is not None and has_scope_check(preferred) and find_general_model(self.models) is not None:
            return preferred
        return self.most_accurate()

    @property
    def refused(self) -> list[tuple[Path, str]]:
        """Files that break the contract, with the reason in plain words."""
        return sorted(self._refused.items())

    def add_folder(self, path: str | Path) -> tuple[list[ModelInfo], list[tuple[Path, str]]]:
        """Scan a folder (again, if already known); return what it added and refused."""
        folder = Path(path).expanduser().resolve()
        if folder not in self._folders:
            self._folders.append(folder)
        added: list[ModelInfo] = []
        refused: list[tuple[Path, str]] = []
        if not folder.is_dir():
            refused.append((folder, "folder not found"))
            log.warning("models folder %s does not exist", folder)
        from desktop_app.engine.derived import read_any_model_info  # imports onnxruntime: only when scanning

        for file in find_model_files(folder):
            if file in self._models:
                continue
            try:
                info = read_any_model_info(file)
            except ModelContractError as exc:
                reason = "; ".join(exc.problems)
                self._refused[file] = reason
                refused.append((file, reason))
                log.warning("refused model %s: %s", file, reason)
                continue
            except Exception as exc:  # never let one odd file break discovery
                reason = f"could not be read ({exc})"
                self._refused[file] = reason
                refused.append((file, reason))
                continue
            self._refused.pop(file, None)
            self._models[file] = info
            added.append(info)
        return added, refused

    def refresh(self) -> None:
        """Forget everything and rescan all folders (files may have changed)."""
        self._models.clear()
        self._refused.clear()
        for folder in list(self._folders):
            self.add_folder(folder)

    def _by_name(self) -> dict[str, ModelInfo]:
        """Name -> model; first folder wins a plain-name collision (see module doc)."""
        names: dict[str, ModelInfo] = {}
        for info in self._models.values():  # insertion order = folder order
            names.setdefault(info.name, info)
            names.setdefault(f"{info.path.parent.name}/{info.name}", info)
        return names

    def get(self, name_or_path: str | Path) -> ModelInfo:
        """A model by name, ``folder/name``, display name, or file path.

        A path to a file outside the known folders is read on the spot.
        Raises ``KeyError`` listing the known names.
        """
        key = str(name_or_path)
        names = self._by_name()
        if key in names:
            return names[key]
        for info in self._models.values():
            if info.display_name == key:
                return info
        candidate = Path(key).expanduser()
        if candidate.suffix.lower() in (".onnx", ".derived") and candidate.is_file():
            from desktop_app.engine.derived import read_any_model_info

            resolved = candidate.resolve()
            return self._models.get(resolved) or read_any_model_info(resolved)
        known = ", ".join(sorted(n for n in names if "/" not in n)) or "none (no valid model found)"
        raise KeyError(f"unknown model {key!r}; known models: {known}")
