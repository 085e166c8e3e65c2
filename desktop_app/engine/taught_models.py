"""Where taught models live and what the user can do with them: list, rename, re-teach, delete.

Taught models are kept in the user's models folder, the same place Qt's
``QStandardPaths.AppDataLocation`` gives the window (organisation and app
name from :mod:`desktop_app`) plus ``models``, computed here without Qt so
the command line agrees. ``IMAGE_CLASSIFIER_DATA`` overrides the location
(tests, portable installs). Only files written by ``teach`` (their
``training.recipe`` says so) are ever renamed, re-taught or deleted.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from desktop_app import APP_NAME, ORGANIZATION
from desktop_app.engine.contract import ModelInfo, read_model_info

DATA_ENV = "IMAGE_CLASSIFIER_DATA"


def user_data_dir() -> Path:
    """The platform's per-user app-data folder for this app (QStandardPaths.AppDataLocation)."""
    override = os.environ.get(DATA_ENV)
    if override:
        return Path(override)
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / ORGANIZATION / APP_NAME


def user_models_dir() -> Path:
    """Folder of the user's taught models (not created here)."""
    return user_data_dir() / "models"


def file_name_for(display_name: str) -> str:
    """A safe ``.onnx`` file name for a display name ("Ripe fruit!" -> "ripe_fruit.onnx")."""
    stem = re.sub(r"[^\w-]+", "_", display_name.strip().lower(), flags=re.UNICODE).strip("_")
    return f"{stem or 'taught_model'}.onnx"


def free_model_path(folder: Path, file_name: str) -> Path:
    """``folder/file_name``, or ``stem_2.onnx``, ``stem_3.onnx`` ... when taken."""
    path = Path(folder) / file_name
    n = 2
    while path.exists():
        path = path.with_name(f"{Path(file_name).stem}_{n}.onnx")
        n += 1
    return path


def is_taught(info: ModelInfo) -> bool:
    return str(info.training.get("recipe", "")).startswith("teach")


def taught_models(folder: str | Path | None = None) -> list[ModelInfo]:
    """Valid taught models in ``folder`` (default: the user's models folder), by display name."""
    folder = Path(folder) if folder is not None else user_models_dir()
    found = []
    for path in sorted(folder.glob("*.onnx")) if folder.is_dir() else []:
        try:
            info = read_model_info(path)
        except Exception:  # a broken file is the registry's to report, not ours
            continue
        if is_taught(info):
            found.append(info)
    return sorted(found, key=lambda m: m.display_name.lower())


def _taught_info(path: str | Path) -> ModelInfo:
    info = read_model_info(path)
    if not is_taught(info):
        raise ValueError(f"{Path(path).name} was not taught by this app: it is left alone")
    return info


def rename_model(path: str | Path, display_name: str) -> ModelInfo:
    """Give a taught model a new display name (the file keeps its name and place)."""
    from desktop_app.engine.teach import write_checked
    from desktop_app.engine.teach_graph import load_model

    display_name = display_name.strip()
    if not display_name:
        raise ValueError("the name cannot be empty")
    _taught_info(path)
    model = load_model(path)
    write_checked(model.with_metadata({**model.metadata, "display_name": display_name}).serialize(), Path(path))
    return read_model_info(path)


def delete_model(path: str | Path) -> None:
    """Delete a taught model's file (the photos it was taught from are not touched)."""
    _taught_info(path)
    Path(path).unlink()


def reteach(path: str | Path, folder: str | Path | None = None, **kwargs):  # type: ignore[no-untyped-def]
    """Teach a taught model again (from its folder, or ``folder``), keeping its file and name.

    Returns the :class:`~desktop_app.engine.teach.TeachResult`; keyword
    arguments go to :func:`~desktop_app.engine.teach.teach` (progress, cancel ...).
    """
    from desktop_app.engine.teach import teach

    info = _taught_info(path)
    source = folder if folder is not None else source_folder(info)
    if not source or not Path(source).is_dir():
        raise ValueError(f"the photos {info.display_name} was taught from are not at {source!r} any more")
    return teach(source, path, name=info.display_name, **kwargs)


def source_folder(info: ModelInfo) -> str | None:
    """The absolute folder a taught model was taught from (``training.source_folder``; older files: ``taught_from``)."""
    return info.training.get("source_folder") or info.training.get("taught_from")


def describe(info: ModelInfo) -> str:
    """One line for lists: name, classes, held-out accuracy."""
    accuracy = info.test_accuracy
    held = f", held-out accuracy {accuracy:.0%}" if accuracy is not None else ""
    return f"{info.display_name}: {', '.join(info.labels)}{held}"


__all__ = [
    "user_data_dir",
    "user_models_dir",
    "file_name_for",
    "free_model_path",
    "taught_models",
    "rename_model",
    "delete_model",
    "reteach",
    "describe",
    "is_taught",
    "source_folder",
]
