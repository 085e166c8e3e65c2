"""Decode dataset images with the app's own image function, on a few threads.

Every image goes through :func:`desktop_app.engine.images.load_pixels` (the
uint8 half of ``load_image``), so training sees exactly what the app will
feed the model. Unreadable files are skipped and returned with the reason,
never fatal.
"""

from __future__ import annotations

import os
import tarfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath

import numpy as np
from tqdm.auto import tqdm

from desktop_app.engine.images import ImageLoadError, load_pixels

Skipped = list[tuple[str, str]]  # (file, reason)


def _read_members(archive: Path, names: list[str]) -> Iterator[tuple[str, bytes | Exception]]:
    """Yield the bytes of the wanted archive members in archive order (one forward pass).

    Member names are compared as the layout lists them (``./train/a.jpg`` is
    ``train/a.jpg``); reading stops once every wanted member has been seen.
    """
    wanted = set(names)
    with tarfile.open(archive) as tar:
        for member in tar:
            name = PurePosixPath(member.name).as_posix()
            if name in wanted:
                wanted.discard(name)
                try:
                    handle = tar.extractfile(member)
                    yield name, handle.read() if handle else ValueError("not a regular file")
                except (tarfile.TarError, OSError, EOFError) as exc:
                    yield name, exc
                if not wanted:
                    break


def _decode_one(name: str, source: bytes | str | Exception, size: tuple[int, int]) -> np.ndarray | str:
    """The uint8 image, or the reason it could not be read."""
    if isinstance(source, Exception):
        return f"unreadable archive member ({source})"
    try:
        return load_pixels(source, size)  # load_image's exact values, as uint8
    except ImageLoadError as exc:
        return str(exc).split(": ", 1)[-1]


def decode_files(
    source: Path, names: list[str], size: tuple[int, int] = (32, 32)
) -> tuple[dict[str, np.ndarray], Skipped]:
    """Decode files of a folder or members of an archive (one forward pass over it).

    Returns the uint8 ``(H, W, 3)`` image of every readable name and the skipped files.
    """
    if source.is_file():
        stream: Iterator[tuple[str, bytes | str | Exception]] = _read_members(source, names)
    else:
        stream = ((name, str(source / name)) for name in names)
    images: dict[str, np.ndarray] = {}
    skipped: Skipped = []
    workers = min(8, (os.cpu_count() or 2))
    with ThreadPoolExecutor(workers) as pool, tqdm(total=len(names), desc="decoding", unit="img", leave=False) as bar:
        pending = []
        for name, data in stream:
            pending.append((name, pool.submit(_decode_one, name, data, size)))
            bar.update()
        for name, future in pending:
            result = future.result()
            if isinstance(result, str):
                skipped.append((name, result))
            else:
                images[name] = result
    return images, skipped


def stack(images: dict[str, np.ndarray], items: list[tuple[str, int]], size: tuple[int, int]):
    """Arrays ``(x, y)`` of the decoded items, in item order."""
    kept = [(name, label) for name, label in items if name in images]
    x = np.stack([images[n] for n, _ in kept]) if kept else np.zeros((0, *size, 3), np.uint8)
    return x, np.array([label for _, label in kept], dtype=np.int32)
