"""Find the images of a folder-layout dataset: ``train/<class>/*`` and ``test/<class>/*``.

The dataset may be a folder or a ``.tar.gz`` of one (members are listed
straight from the archive; nothing is extracted). Both may hold the two
split folders at their top or inside one top-level folder. Class names are
the folder names, sorted, so CIFAR-10's folders give its usual label order.
"""

from __future__ import annotations

import tarfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

SPLITS = ("train", "test")


class DatasetLayoutError(ValueError):
    """The data source does not fit the ``train/<class>/*``, ``test/<class>/*`` layout."""


@dataclass
class Listing:
    """The files of a dataset: per split, ``(member, class index)`` in a stable order."""

    source: Path
    labels: tuple[str, ...]
    files: dict[str, list[tuple[str, int]]] = field(default_factory=dict)

    @property
    def is_archive(self) -> bool:
        return self.source.is_file()


def is_archive(path: Path) -> bool:
    return path.name.endswith((".tar.gz", ".tgz", ".tar"))


def _hidden(parts: tuple[str, ...]) -> bool:
    return any(p.startswith(".") or p == "__MACOSX" for p in parts)


def _group(paths: list[PurePosixPath], source: Path) -> Listing:
    """Arrange relative file paths ``[prefix/]split/class/.../file`` into a :class:`Listing`."""
    paths = [p for p in paths if not _hidden(p.parts)]
    roots = {p.parts[0] for p in paths}
    prefix: tuple[str, ...] = ()
    if len(roots) == 1 and not roots & set(SPLITS):
        prefix = (roots.pop(),)  # everything sits in one top-level folder
    by_split: dict[str, dict[str, list[str]]] = {s: {} for s in SPLITS}
    for p in paths:
        rel = p.parts[len(prefix) :]
        if p.parts[: len(prefix)] != prefix or len(rel) < 3 or rel[0] not in SPLITS:
            continue  # README files and the like beside the split folders
        by_split[rel[0]].setdefault(rel[1], []).append(p.as_posix())
    found = [s for s in SPLITS if by_split[s]]
    expected = "expected train/<class>/<image> and test/<class>/<image>"
    if len(found) < len(SPLITS):
        missing = ", ".join(f"{s}/" for s in SPLITS if s not in found)
        raise DatasetLayoutError(f"{source}: does not fit the dataset layout ({expected}); no images under {missing}")
    train_classes, test_classes = sorted(by_split["train"]), sorted(by_split["test"])
    if train_classes != test_classes:
        only_train = sorted(set(train_classes) - set(test_classes))
        only_test = sorted(set(test_classes) - set(train_classes))
        raise DatasetLayoutError(
            f"{source}: train/ and test/ must have the same class folders "
            f"(only in train: {only_train or 'none'}; only in test: {only_test or 'none'})"
        )
    if len(train_classes) < 2:
        raise DatasetLayoutError(f"{source}: needs at least two class folders ({expected}), found {train_classes}")
    listing = Listing(source=source, labels=tuple(train_classes))
    for split in SPLITS:
        listing.files[split] = [
            (member, index) for index, label in enumerate(train_classes) for member in sorted(by_split[split][label])
        ]
    return listing


def list_folder(root: Path) -> Listing:
    """List a dataset folder (recursing below each class folder)."""
    files = [PurePosixPath(p.relative_to(root).as_posix()) for p in root.rglob("*") if p.is_file()]
    return _group(files, root)


def list_archive(path: Path) -> Listing:
    """List a ``.tar[.gz]`` dataset from its member headers."""
    try:
        with tarfile.open(path) as tar:
            files = [PurePosixPath(m.name) for m in tar.getmembers() if m.isfile()]
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise DatasetLayoutError(f"{path}: not a readable tar archive ({exc})") from None
    return _group(files, path)


def list_dataset(source: str | Path) -> Listing:
    """List a dataset folder or archive; :class:`DatasetLayoutError` when it does not fit."""
    path = Path(source).expanduser()
    if path.is_dir():
        return list_folder(path)
    if path.is_file() and is_archive(path):
        return list_archive(path)
    if path.exists():
        raise DatasetLayoutError(f"{path}: expected a dataset folder or a .tar.gz of one")
    raise DatasetLayoutError(f"{path}: no such file or folder")
