"""Pixel-mode conversion: any Pillow mode to 8-bit RGB, transparency flattened.

Pillow's own ``convert("RGB")`` clips 16-bit and float images (everything
above 255 becomes white) and drops alpha onto black, so those modes are
handled here explicitly.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

_HIGH_DEPTH = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")


#: Pixels converted at a time: float32 strips of this size bound the extra memory (4 MB).
STRIP_PIXELS = 1 << 20


def _strips(values: np.ndarray) -> list[slice]:
    rows = max(1, STRIP_PIXELS // max(1, values.shape[1] if values.ndim > 1 else 1))
    return [slice(start, start + rows) for start in range(0, max(1, values.shape[0]), rows)]


def _finite_peak(values: np.ndarray) -> float:
    """The largest finite value (0 when there is none), strip by strip."""
    peak = 0.0
    for rows in _strips(values):
        strip = values[rows]
        if strip.dtype.kind == "f":
            strip = strip[np.isfinite(strip)]
        if strip.size:
            peak = max(peak, float(strip.max()))
    return peak


def high_depth_to_8bit(values: np.ndarray, mode: str) -> np.ndarray:
    """Map 16-bit / 32-bit / float grey values to uint8 0..255.

    16-bit modes scale by 255/65535. Mode "I" (32-bit int) is taken as 8-bit
    when it fits, else as 16-bit when it fits, else stretched by its maximum.
    Mode "F" is taken as 0..1 when it fits, else as 0..255 when it fits, else
    stretched by its maximum. NaN and infinities become 0.

    Works in float32 strips of :data:`STRIP_PIXELS`: besides the input and the
    uint8 result (1 byte per pixel) it needs 4 MB, so an 80-MP 16-bit PNG no
    longer takes 2.4 GB of float64 copies.
    """
    values = np.asarray(values)
    out = np.empty(values.shape, dtype=np.uint8)
    if mode.startswith("I;16"):
        scale = 255.0 / 65535.0
    else:
        peak = _finite_peak(values)
        if mode == "F" and peak <= 1.0:
            scale = 255.0
        elif peak <= 255.0:
            scale = 1.0
        elif mode == "I" and peak <= 65535.0:
            scale = 255.0 / 65535.0
        else:
            scale = 255.0 / peak
    for rows in _strips(values):
        strip = values[rows].astype(np.float32)
        np.nan_to_num(strip, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
        strip *= np.float32(scale)
        np.rint(strip, out=strip)
        np.clip(strip, 0, 255, out=strip)
        out[rows] = strip
    return out


def _has_transparency(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info


def to_rgb(image: Image.Image, background: tuple[int, int, int]) -> Image.Image:
    """``image`` as 8-bit RGB, transparent pixels composited over ``background``.

    An RGB image without transparency comes back as it is (no copy): callers
    hand over images they just decoded.
    """
    if image.mode in _HIGH_DEPTH:
        grey = high_depth_to_8bit(np.asarray(image), image.mode)
        return Image.fromarray(grey).convert("RGB")
    if _has_transparency(image):
        rgba = image.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (*background, 255))
        canvas.alpha_composite(rgba)
        return canvas.convert("RGB")
    if image.mode == "RGB":
        return image
    return image.convert("RGB")
