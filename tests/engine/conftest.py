"""Fixtures for the engine tests: a folder of real, deliberately awkward image files."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

#: File name -> expected outcome: None when it must classify, else the error reason.
EXPECTED: dict[str, str | None] = {
    "photo.jpg": None,
    "cmyk.jpg": None,
    "rgb.png": None,
    "alpha.png": None,
    "grey16.png": None,
    "palette_transparent.png": None,
    "la.png": None,
    "tiny_1x1.png": None,
    "animated.gif": None,
    "picture.bmp": None,
    "picture.tiff": None,
    "picture.webp": None,
    "exif_rotated.jpg": None,
    "café ☕ 日本.png": None,
    "truncated.jpg": "truncated",
    "empty.jpg": "empty_file",
    "notes.jpg": "not_an_image",
    "folder.png": "is_directory",
    "bomb.png": "too_large",
}


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height``: cheap decompression-bomb bait."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")


def half_red_half_blue(width: int = 40, height: int = 20) -> Image.Image:
    """Left half red, right half blue (as stored)."""
    pixels = np.zeros((height, width, 3), dtype=np.uint8)
    pixels[:, : width // 2, 0] = 255
    pixels[:, width // 2 :, 2] = 255
    return Image.fromarray(pixels)


def exif_rotated_jpeg(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    half_red_half_blue().save(buffer, "JPEG", quality=95, exif=exif.tobytes())
    return buffer.getvalue()


def write_awkward_files(folder: Path) -> Path:
    """Write one file per entry of :data:`EXPECTED` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    red = Image.new("RGB", (48, 32), (250, 10, 10))
    red.save(folder / "photo.jpg", quality=95)
    Image.new("CMYK", (40, 30), (0, 255, 255, 0)).save(folder / "cmyk.jpg")  # red in CMYK
    Image.new("RGB", (30, 30), (10, 240, 10)).save(folder / "rgb.png")
    alpha = Image.new("RGBA", (30, 30), (0, 0, 255, 255))
    alpha.paste((0, 0, 0, 0), (0, 0, 30, 10))
    alpha.save(folder / "alpha.png")
    Image.fromarray(np.full((20, 20), 65535, dtype=np.uint16)).save(folder / "grey16.png")
    palette = Image.new("P", (20, 20), 1)
    palette.putpalette([0, 0, 0, 0, 0, 255] + [0] * 762)
    palette.paste(0, (0, 0, 10, 20))
    palette.save(folder / "palette_transparent.png", transparency=0)
    Image.new("LA", (16, 16), (0, 0)).save(folder / "la.png")
    Image.new("RGB", (1, 1), (0, 0, 255)).save(folder / "tiny_1x1.png")
    frames = [Image.new("RGB", (20, 20), c) for c in ((255, 0, 0), (0, 255, 0))]
    frames[0].save(folder / "animated.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    Image.new("RGB", (24, 24), (0, 255, 0)).save(folder / "picture.bmp")
    Image.new("RGB", (24, 24), (0, 0, 255)).save(folder / "picture.tiff")
    Image.new("RGB", (24, 24), (255, 0, 0)).save(folder / "picture.webp", lossless=True)
    (folder / "exif_rotated.jpg").write_bytes(exif_rotated_jpeg(6))
    Image.new("RGB", (20, 20), (0, 255, 0)).save(folder / "café ☕ 日本.png")
    whole = io.BytesIO()
    Image.effect_noise((256, 256), 60).convert("RGB").save(whole, "JPEG", quality=90)
    (folder / "truncated.jpg").write_bytes(whole.getvalue()[: len(whole.getvalue()) // 2])
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "notes.jpg").write_text("this is not a picture\n", encoding="utf-8")
    (folder / "folder.png").mkdir(exist_ok=True)
    (folder / "bomb.png").write_bytes(png_header_only(20_000, 20_000))
    return folder


@pytest.fixture(scope="session")
def awkward_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding every awkward image file of :data:`EXPECTED` (read-only use)."""
    return write_awkward_files(tmp_path_factory.mktemp("awkward"))
