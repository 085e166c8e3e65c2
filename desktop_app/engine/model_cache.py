"""Model metadata read once per file version, not by opening a session on every start.

Reading a model's inputs, outputs and metadata takes an onnxruntime session
(40-100 ms per shipped model); listing the models or picking the default one
did that for every file on every start. This cache keeps what
:func:`~desktop_app.engine.contract.read_model_specs` returned, keyed by the
resolved path, size and modification time, in one small JSON file in the
user's cache folder. The contract is still checked on every read (cheap, pure
Python), so a cached file that breaks it is refused with the same words.

The folder: ``$IMAGE_CLASSIFIER_CACHE_DIR``, else the platform's user cache
folder (``$XDG_CACHE_HOME`` or ``~/.cache`` on Linux) / ``image-classifier``.
An unreadable or unwritable cache is ignored: the file is then read directly.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any, cast

from desktop_app.engine.contract import ModelInfo, TensorSpec, build_model_info, read_model_specs

log = logging.getLogger(__name__)

CACHE_FILE = "model-info.json"
_VERSION = 1
_lock = threading.Lock()
_entries: dict[str, dict[str, Any]] | None = None
_loaded_from: Path | None = None


def cache_dir() -> Path:
    """Where the cache file lives (see the module doc)."""
    override = os.environ.get("IMAGE_CLASSIFIER_CACHE_DIR")
    if override:
        return Path(override).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "image-classifier"


def _load(file: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != _VERSION or not isinstance(data.get("models"), dict):
        return {}
    return cast(dict[str, dict[str, Any]], data["models"])


def _save(file: Path, entries: dict[str, dict[str, Any]]) -> None:
    """Write atomically (a temporary file renamed over the old one), so a reader never sees half a file."""
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=file.parent, prefix=".model-info-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump({"version": _VERSION, "models": entries}, out)
        os.replace(temp, file)
    except OSError as exc:
        log.debug("model cache not written (%s)", exc)


def _specs_to_json(specs: list[TensorSpec]) -> list[list[Any]]:
    return [[s.name, s.type, list(s.shape)] for s in specs]


def _specs_from_json(rows: list[list[Any]]) -> list[TensorSpec]:
    return [TensorSpec(name, type_, tuple(shape)) for name, type_, shape in rows]


def _lookup(path: Path) -> tuple[str, dict[str, int], dict[str, Any] | None]:
    """(cache key, size/mtime stamp, the entry if it matches the file as it is now); OSError if unreadable."""
    global _entries, _loaded_from
    stat = path.stat()
    key = str(path.resolve())
    stamp = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    file = cache_dir() / CACHE_FILE
    with _lock:
        if _entries is None or _loaded_from != file:
            _entries, _loaded_from = _load(file), file
        entry = _entries.get(key)
    fresh = entry is not None and all(entry.get(k) == v for k, v in stamp.items())
    return key, stamp, entry if fresh else None


def is_cached(path: str | Path) -> bool:
    """Whether :func:`cached_model_info` would answer ``path`` from the cache (no session to open)."""
    try:
        return _lookup(Path(path))[2] is not None
    except OSError:
        return False


def cached_model_info(path: str | Path) -> ModelInfo:
    """Like :func:`~desktop_app.engine.contract.read_model_info`, from the cache when the file is unchanged.

    Raises :class:`~desktop_app.engine.contract.ModelContractError` exactly as the direct read does.
    """
    global _entries
    path = Path(path)
    try:
        key, stamp, entry = _lookup(path)
    except OSError:
        return build_model_info(path, *read_model_specs(path))  # raises "file not found"
    file = cache_dir() / CACHE_FILE
    if entry is not None:
        try:
            specs = _specs_from_json(entry["inputs"]), _specs_from_json(entry["outputs"]), dict(entry["props"])
        except (KeyError, TypeError, ValueError):
            specs = None
        if specs is not None:
            return build_model_info(path, *specs)
    inputs, outputs, props = read_model_specs(path)
    with _lock:
        assert _entries is not None
        merged = {**_load(file), **_entries}  # keep what other processes added meanwhile
        _entries = {k: v for k, v in merged.items() if Path(k).is_file()}  # forget deleted files
        _entries[key] = {**stamp, "inputs": _specs_to_json(inputs), "outputs": _specs_to_json(outputs), "props": props}
        _save(file, _entries)
    return build_model_info(path, inputs, outputs, props)
