"""Benchmark inputs: CIFAR-10 test JPEGs, generated 12-MP photos, phone photos, many tiny files.

Everything is written under the run's temporary folder, never into the repo.
"""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from benchmarks.common import CIFAR_TARBALL, REPO_ROOT, SHARED_DATA

#: A 12-megapixel phone photo (4:3).
PHOTO_SIZE = (4000, 3000)


def cifar_jpegs(dest: Path, count: int, tarball: Path = CIFAR_TARBALL) -> tuple[list[Path], str]:
    """Extract the first ``count`` test-split JPEGs (all classes) into ``dest``.

    Returns the files and where they came from. Without the shared tarball,
    ``count`` generated 32x32 JPEGs stand in (the report says so).
    """
    dest.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    if tarball.is_file():
        per_class = -(-count // 10)
        taken: dict[str, int] = {}
        with tarfile.open(tarball, "r:gz") as archive:
            for member in archive:
                parts = member.name.split("/")
                if len(files) >= count:
                    break
                if not member.isfile() or len(parts) != 3 or parts[0] != "test":
                    continue
                label = parts[1]
                if taken.get(label, 0) >= per_class:
                    continue
                taken[label] = taken.get(label, 0) + 1
                target = dest / label / parts[2]
                target.parent.mkdir(exist_ok=True)
                with archive.extractfile(member) as src, open(target, "wb") as out:  # type: ignore[union-attr]
                    shutil.copyfileobj(src, out)
                files.append(target)
        return files, f"CIFAR-10 test split ({tarball.name})"
    rng = np.random.default_rng(0)
    for i in range(count):
        target = dest / f"{i // 1000:03d}" / f"{i:05d}.jpg"
        target.parent.mkdir(exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(target, quality=90)
        files.append(target)
    return files, "generated 32x32 JPEGs (CIFAR tarball not found)"


def _photo_pixels(seed: int, size: tuple[int, int]) -> Image.Image:
    """A smooth, photo-like picture: low-resolution noise upscaled, plus fine grain."""
    rng = np.random.default_rng(seed)
    width, height = size
    coarse = Image.fromarray(rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)).resize(size, Image.Resampling.BICUBIC)
    grain = Image.fromarray(rng.integers(0, 256, (height // 8, width // 8, 3), dtype=np.uint8)).resize(
        size, Image.Resampling.NEAREST
    )
    return Image.blend(coarse, grain, 0.15)


def large_photos(dest: Path, count: int, size: tuple[int, int] = PHOTO_SIZE) -> list[Path]:
    """``count`` distinct JPEGs of ``size`` pixels (quality 90, like a phone camera)."""
    dest.mkdir(parents=True, exist_ok=True)
    files = []
    base = _photo_pixels(0, size)
    for i in range(count):
        # Distinct content per file (so no two decodes share caches) without regenerating the base.
        shifted = (
            base.rotate(180 * (i % 2), expand=False) if i % 4 < 2 else base.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        )
        stamp = Image.fromarray(np.full((64, 64, 3), (i * 37) % 256, dtype=np.uint8))
        shifted.paste(stamp, ((i * 97) % (size[0] - 64), (i * 53) % (size[1] - 64)))
        target = dest / f"photo_{i:04d}.jpg"
        shifted.save(target, quality=90)
        files.append(target)
    return files


#: Real photos the phone-photo folder is made from, the shared copy first (repo samples as fallback).
PHOTO_SOURCES = (SHARED_DATA / "real-photos", REPO_ROOT / "assets" / "samples")


def phone_photos(dest: Path, count: int, size: tuple[int, int] = PHOTO_SIZE) -> tuple[list[Path], str]:
    """``count`` 12-MP JPEGs (quality 90) made from the real photos: what users drop from a phone.

    Each real photo is cropped to 4:3 and upscaled, with a fine grain so the
    JPEG holds as much detail as a camera's; files differ by flips and a
    stamp. Returns the files and where the pictures came from.
    """
    source = next((folder for folder in PHOTO_SOURCES if folder.is_dir()), None)
    originals = sorted(p for p in source.rglob("*") if p.suffix.lower() in {".jpg", ".png"}) if source else []
    dest.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    width, height = size
    grain = Image.fromarray(rng.integers(0, 256, (height // 4, width // 4, 3), dtype=np.uint8)).resize(
        size, Image.Resampling.NEAREST
    )
    bases: list[Image.Image] = []
    for original in originals[: min(len(originals), count)]:
        with Image.open(original) as image:
            picture = ImageOps.fit(image.convert("RGB"), size, Image.Resampling.BICUBIC)
        bases.append(Image.blend(picture, grain, 0.03))
    if not bases:  # no photos at all: the generated picture stands in
        bases = [_photo_pixels(0, size)]
    files = []
    for i in range(count):
        picture = bases[i % len(bases)]
        variant = picture.transpose(Image.Transpose.FLIP_LEFT_RIGHT) if (i // len(bases)) % 2 else picture.copy()
        stamp = Image.new("RGB", (64, 64), ((i * 37) % 256,) * 3)
        variant.paste(stamp, ((i * 97) % (width - 64), (i * 53) % (height - 64)))
        target = dest / f"IMG_{i:04d}.jpg"
        variant.save(target, quality=90)
        files.append(target)
    origin = f"{len(originals)} real photos from {source}" if originals else "a generated picture"
    return files, origin


def small_files(dest: Path, count: int, per_folder: int = 1000) -> list[Path]:
    """``count`` small PNGs in sub-folders of ``per_folder`` files; returns the sub-folders."""
    folders: list[Path] = []
    for i in range(count):
        if i % per_folder == 0:
            folders.append(dest / f"{i // per_folder:03d}")
            folders[-1].mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (24, 24), (i % 256, (i // 256) % 256, 128)).save(folders[-1] / f"{i:06d}.png")
    return folders
