"""Pixel-mode conversion: any Pillow mode to 8-bit RGB, transparency flattened.

Pillow's own ``convert("RGB")`` clips 16-bit and float images (everything
above 255 becomes white) and drops alpha onto black, so those modes are
handled here explicitly.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

_HIGH_DEPTH = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")


def high_depth_to_8bit(values: np.ndarray, mode: str) -> np.ndarray:
    """Map 16-bit / 32-bit / float grey values to uint8 0..255.

    16-bit modes scale by 255/65535. Mode "I" (32-bit int) is taken as 8-bit
    when it fits, else as 16-bit when it fits, else stretched by its maximum.
    Mode "F" is taken as 0..1 when it fits, else as 0..255 when it fits, else
    stretched by its maximum.
    """
    data = np.nan_to_num(values.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    peak = float(data.max()) if data.size else 0.0
    if mode.startswith("I;16"):
        scale = 255.0 / 65535.0
    elif mode == "F" and peak <= 1.0:
        scale = 255.0
    elif peak <= 255.0:
        scale = 1.0
    elif mode == "I" and peak <= 65535.0:
        scale = 255.0 / 65535.0
    else:
        scale = 255.0 / peak
    return np.clip(np.rint(data * scale), 0, 255).astype(np.uint8)


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
