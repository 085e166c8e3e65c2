"""Cache decoded datasets as ``.npz`` so repeat runs skip decoding 60,000 JPEGs.

The key covers the source (path, size and modification time of the archive,
or of every file of a folder), the subset asked for and the decoding
settings; a changed source or setting simply misses the cache.
Location: ``$CIFAR_CLASSIFIER_CACHE``, else ``$XDG_CACHE_HOME`` or ``~/.cache``,
then ``cifar-image-classifier/``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

CACHE_VERSION = 1


def cache_dir() -> Path:
    override = os.environ.get("CIFAR_CLASSIFIER_CACHE")
    if override:
        return Path(override).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "cifar-image-classifier"


def fingerprint(source: Path) -> list[Any]:
    """What identifies the content of a dataset archive or folder cheaply (no reading)."""
    source = source.resolve()
    if source.is_file():
        st = source.stat()
        return [str(source), st.st_size, st.st_mtime_ns]
    digest = hashlib.sha1()
    for path in sorted(source.rglob("*")):
        if path.is_file():
            st = path.stat()
            digest.update(f"{path.relative_to(source)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return [str(source), digest.hexdigest()]


def cache_key(source: Path, **settings: Any) -> str:
    text = json.dumps([CACHE_VERSION, fingerprint(source), settings], sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:20]


def load(key: str) -> dict[str, Any] | None:
    """The cached arrays and their JSON ``meta`` dict, or None on a miss or a damaged file."""
    path = cache_dir() / f"{key}.npz"
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except (OSError, ValueError, KeyError):
        return None
    meta = arrays.pop("meta", None)
    if meta is None:
        return None
    arrays["meta"] = json.loads(str(meta))
    return arrays


def save(key: str, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> Path | None:
    """Write atomically; a read-only or full disk only costs the cache, never the run."""
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".npz.tmp")
    except OSError:
        return None
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, meta=np.array(json.dumps(meta)), **arrays)
        target = folder / f"{key}.npz"
        os.replace(tmp, target)
        return target
    except OSError:
        Path(tmp).unlink(missing_ok=True)
        return None
