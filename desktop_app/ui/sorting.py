"""Copy classified images into one sub-folder per predicted class.

Plain file work without Qt (so it is easy to test): originals are never moved
or deleted, an existing file is never overwritten (a clash gets " (2)", " (3)"
... before the suffix), and class names are made safe as folder names.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

#: Folder for unsure results when "Sort into folders" is asked to keep them apart (off by default).
UNSURE_FOLDER = "_unsure"
_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f]')


def safe_folder_name(label: str) -> str:
    """A class name usable as a folder name on Windows, macOS and Linux."""
    name = _UNSAFE.sub("_", label).strip().rstrip(".")
    return name or "_"


def free_path(target: Path) -> Path:
    """``target`` itself if it does not exist, else the first free "name (k).ext"."""
    if not target.exists():
        return target
    k = 2
    while True:
        candidate = target.with_name(f"{target.stem} ({k}){target.suffix}")
        if not candidate.exists():
            return candidate
        k += 1


@dataclass
class SortReport:
    """What :func:`copy_into_class_folders` did."""

    copied: list[tuple[Path, Path]] = field(default_factory=list)  # (source, destination)
    failed: list[tuple[Path, str]] = field(default_factory=list)  # (source, reason)
    renamed: int = 0  # copies that got a " (k)" name because of a clash

    @property
    def per_class(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for _, dest in self.copied:
            counts[dest.parent.name] = counts.get(dest.parent.name, 0) + 1
        return counts


def copy_into_class_folders(items: Iterable[tuple[str | Path, str]], destination: str | Path) -> SortReport:
    """Copy each ``(image path, class label)`` into ``destination/<label>/``.

    Keeps file times (``copy2``); a failure on one file is recorded and the
    rest go on.
    """
    destination = Path(destination)
    report = SortReport()
    for source, label in items:
        source = Path(source)
        folder = destination / safe_folder_name(label)
        try:
            if source.resolve().parent == folder.resolve():
                continue  # already sorted into this very folder: nothing to copy
            folder.mkdir(parents=True, exist_ok=True)
            target = free_path(folder / source.name)
            shutil.copy2(source, target)
        except OSError as exc:
            report.failed.append((source, exc.strerror or str(exc)))
            continue
        if target.name != source.name:
            report.renamed += 1
        report.copied.append((source, target))
    return report
