"""Lazy discovery of image files in files and folders.

Explicit file paths are always yielded (so a text file named ``.jpg`` becomes
an error row instead of vanishing); folders are walked in name order for
files with an image suffix. Hidden entries (names starting with ".", e.g.
macOS ``._photo.jpg`` resource forks) are skipped inside folders. Symlinked
folders are followed once: a folder already visited (a symlink loop or a
second link to the same folder) is reported, as is a folder that cannot be
read. Nothing is listed ahead: memory grows with the folder count, never
with the file count.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from desktop_app.engine.images import IMAGE_SUFFIXES


def is_image_name(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in IMAGE_SUFFIXES


def _folder_id(path: str) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


def _walk(
    root: str, recursive: bool, errors: list[tuple[Path, str]] | None, seen: set[tuple[int, int]]
) -> Iterator[Path]:
    stack = [root]
    while stack:
        folder = stack.pop()
        ident = _folder_id(folder)
        if ident in seen:
            if errors is not None:
                errors.append((Path(folder), "skipped: this folder was already visited (symlink loop or second link)"))
            continue
        if ident is not None:
            seen.add(ident)
        try:
            with os.scandir(folder) as scan:
                entries = sorted((e for e in scan if not e.name.startswith(".")), key=lambda e: e.name)
        except OSError as exc:
            if errors is not None:
                errors.append((Path(folder), f"cannot read this folder ({exc.strerror or exc})"))
            continue
        subfolders = []
        for entry in entries:
            try:
                is_dir = entry.is_dir()  # follows symlinks
            except OSError:
                is_dir = False
            if is_dir:
                if recursive:
                    subfolders.append(entry.path)
            elif is_image_name(entry.name):
                yield Path(entry.path)
        stack.extend(reversed(subfolders))  # visit in name order


def iter_image_files(
    paths: Iterable[str | Path], *, recursive: bool = True, errors: list[tuple[Path, str]] | None = None
) -> Iterator[Path]:
    """Yield image files from ``paths`` lazily; problems with folders go into ``errors``."""
    seen: set[tuple[int, int]] = set()
    for item in paths:
        path = Path(item)
        if path.is_dir():
            yield from _walk(str(path), recursive, errors, seen)
        else:
            yield path


def count_image_files(
    paths: Iterable[str | Path], *, recursive: bool = True, stop: Callable[[], bool] | None = None
) -> int | None:
    """Count what :func:`iter_image_files` would yield, plus folder errors; None if stopped."""
    errors: list[tuple[Path, str]] = []
    count = 0
    for _ in iter_image_files(paths, recursive=recursive, errors=errors):
        count += 1
        if stop is not None and count % 256 == 0 and stop():
            return None
    return count + len(errors)
