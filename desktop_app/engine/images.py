"""One image path for the whole product: file or bytes -> RGB -> model input.

The app, the command line, the benchmarks and the training code all decode
images here, so training and use never disagree. Pillow does the decoding
(paths are handed to it as Python strings, so non-ASCII names work); EXIF
orientation is applied; transparency is composited over :data:`BACKGROUND`;
16-bit, float, CMYK and palette images become 8-bit RGB; big JPEGs are
decoded at 1/2..1/8 scale with Pillow's draft mode. Anything unreadable
raises :class:`ImageLoadError` with a short ``reason`` code.
"""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO, TypeVar

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from desktop_app.engine.convert import to_rgb

#: Fill colour behind transparent pixels (white, like an image viewer's page).
BACKGROUND = (255, 255, 255)
#: Header-checked pixel limit. Below Pillow's own warning threshold
#: (``Image.MAX_IMAGE_PIXELS``, about 89.5 MP) so that Pillow never warns
#: about an image we accept, and we refuse everything it would warn about.
MAX_PIXELS = 80_000_000
#: How a non-square image becomes the model's input size.
FIT_MODES = ("squash", "crop", "pad")
#: Chosen by ``scripts/measure_fit_modes.py`` on the real photos (docs/engine.md).
DEFAULT_FIT = "crop"
#: Colour of the borders added by the "pad" fit (neutral mid-grey).
PAD_COLOUR = (128, 128, 128)

#: Files up to this size are read into memory in one go before decoding (see :func:`_read_source`).
WHOLE_READ_BYTES = 1 << 20

#: Pillow formats we agree to open. Others (EPS runs Ghostscript, PSD, ...)
#: are refused: user files are untrusted input.
ALLOWED_FORMATS = ("JPEG", "PNG", "GIF", "BMP", "DIB", "TIFF", "WEBP", "AVIF", "ICO", "PPM", "TGA", "JPEG2000", "QOI")
IMAGE_SUFFIXES: frozenset[str] = frozenset(
    {
        ".jpg",
        ".jpeg",
        ".jpe",
        ".jfif",
        ".png",
        ".apng",
        ".gif",
        ".bmp",
        ".dib",
        ".tif",
        ".tiff",
        ".webp",
        ".avif",
        ".ico",
        ".ppm",
        ".pgm",
        ".pbm",
        ".pnm",
        ".tga",
        ".jp2",
        ".j2k",
        ".qoi",
    }
)
#: Image types people will try that Pillow cannot (or we will not) decode.
_UNSUPPORTED_SUFFIXES = frozenset(
    {".heic", ".heif", ".psd", ".svg", ".eps", ".raw", ".cr2", ".cr3", ".nef", ".arw", ".dng", ".orf", ".rw2", ".xcf"}
)

_REASONS = {
    "not_found": "the file does not exist",
    "permission_denied": "permission denied",
    "is_directory": "this is a folder, not an image file",
    "not_a_file": "not a regular file (a FIFO, socket or device); it was not opened",
    "empty_file": "the file is empty (0 bytes)",
    "not_an_image": "not an image file Pillow can read",
    "unsupported": "this image type is not supported",
    "truncated": "the file is truncated",
    "too_large": "the image is too large",
    "decode_error": "the image could not be decoded",
}

# ImageFile.LOAD_TRUNCATED_IMAGES must stay False (Pillow's default; nothing
# here changes it): a truncated file is reported, never half-decoded into grey.


# The warning is an exception too when warnings are turned into errors (-W error).
_BOMB = (Image.DecompressionBombError, Image.DecompressionBombWarning)


class ImageLoadError(Exception):
    """An image could not be read; ``reason`` is a short code, ``str()`` a sentence."""

    def __init__(self, path: str | Path | None, reason: str, detail: str = "") -> None:
        self.path = None if path is None else str(path)
        self.reason = reason
        self.detail = detail
        name = Path(self.path).name if self.path else "<image data>"
        text = f"{name}: {_REASONS.get(reason, reason)}"
        super().__init__(f"{text} ({detail})" if detail else text)


def _read_source(source: str | Path | bytes) -> tuple[BinaryIO, str | None]:
    """Open the file (or wrap the bytes); map OS errors to reason codes."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        if len(source) == 0:
            raise ImageLoadError(None, "empty_file")
        return io.BytesIO(bytes(source)), None
    path = os.fspath(source)
    try:
        # stat first: opening a FIFO blocks until a writer comes, a device may have side effects
        if not stat.S_ISREG(mode := os.stat(path).st_mode):
            raise ImageLoadError(path, "is_directory" if stat.S_ISDIR(mode) else "not_a_file")
        # O_NONBLOCK: should the name become a FIFO after the stat, the open still returns at once
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        fp = os.fdopen(fd, "rb")  # noqa: SIM115 - closed by the caller
    except FileNotFoundError:
        raise ImageLoadError(path, "not_found") from None
    except IsADirectoryError:
        raise ImageLoadError(path, "is_directory") from None
    except PermissionError as exc:
        if os.path.isdir(path):  # Windows reports folders as PermissionError
            raise ImageLoadError(path, "is_directory") from None
        raise ImageLoadError(path, "permission_denied", exc.strerror or "") from None
    except OSError as exc:
        raise ImageLoadError(path, "decode_error", exc.strerror or str(exc)) from None
    info = os.fstat(fp.fileno())
    if not stat.S_ISREG(info.st_mode):
        fp.close()
        raise ImageLoadError(path, "not_a_file")
    if info.st_size == 0:
        fp.close()
        raise ImageLoadError(path, "empty_file")
    if info.st_size <= WHOLE_READ_BYTES:
        with fp:  # one read: Pillow's header parsing makes dozens of small reads (19 us of a 32x32 JPEG's 170)
            return io.BytesIO(fp.read()), path
    return fp, path


def _decode_error(path: str | None, exc: Exception) -> ImageLoadError:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, EOFError) or "truncated" in text.lower():
        return ImageLoadError(path, "truncated", text)
    if isinstance(exc, MemoryError):
        return ImageLoadError(path, "too_large", "out of memory while decoding")
    if "decoder" in text and "not available" in text:
        return ImageLoadError(path, "unsupported", text)
    return ImageLoadError(path, "decode_error", text)


def _check_pixels(path: str | None, size: tuple[int, int]) -> None:
    width, height = size
    if width * height > MAX_PIXELS:
        raise ImageLoadError(
            path, "too_large", f"{width} x {height} = {width * height / 1e6:.0f} MP, limit {MAX_PIXELS / 1e6:.0f} MP"
        )


def open_image(source: str | Path | bytes, *, max_side: int | None = None) -> Image.Image:
    """Decode ``source`` to an RGB image, upright, transparency flattened.

    With ``max_side`` the result fits in a ``max_side`` square (aspect kept)
    and JPEGs are decoded at a reduced scale to get there fast.
    """
    rgb = _decode(source, max_side)
    if max_side and max(rgb.size) > max_side:
        rgb.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=3.0)
    return rgb


def _decode(source: str | Path | bytes, draft_side: int | None) -> Image.Image:
    """Decode to upright RGB; JPEGs at the smallest DCT scale keeping both sides >= ``draft_side``."""
    fp, path = _read_source(source)
    with fp:
        try:
            image: Image.Image = Image.open(fp, formats=ALLOWED_FORMATS)
        except _BOMB as exc:
            raise ImageLoadError(path, "too_large", str(exc)) from None
        except UnidentifiedImageError:
            suffix = Path(path).suffix.lower() if path else ""
            reason = "unsupported" if suffix in _UNSUPPORTED_SUFFIXES else "not_an_image"
            raise ImageLoadError(path, reason) from None
        except Exception as exc:  # plugins raise SyntaxError, ValueError, struct.error ...
            raise _decode_error(path, exc) from None
        _check_pixels(path, image.size)
        if draft_side and max(image.size) >= 2 * draft_side:
            image.draft("RGB", (draft_side, draft_side))  # JPEG only: DCT-domain downscale
        try:
            image.load()
        except _BOMB as exc:
            raise ImageLoadError(path, "too_large", str(exc)) from None
        except Exception as exc:
            raise _decode_error(path, exc) from None
        image = _upright(image)  # some formats read EXIF lazily: keep the file open
    try:
        rgb = to_rgb(image, BACKGROUND)
    except (ValueError, OSError) as exc:
        raise ImageLoadError(path, "unsupported", f"mode {image.mode}: {exc}") from None
    return rgb


def _upright(image: Image.Image) -> Image.Image:
    """Apply the EXIF orientation; a broken EXIF block leaves the image as stored."""
    if image.format == "JPEG" and not {"exif", "xmp", "XML:com.adobe.xmp"} & image.info.keys():
        return image  # a JPEG keeps its orientation in EXIF or XMP only: nothing to parse
    try:
        return ImageOps.exif_transpose(image) or image
    except Exception:  # malformed EXIF must not cost the user the image
        return image


def _check_fit(fit: str) -> None:
    if fit not in FIT_MODES:
        raise ValueError(f"unknown fit mode {fit!r}; choose one of {', '.join(FIT_MODES)}")


def fit_image(image: Image.Image, size: tuple[int, int], fit: str = DEFAULT_FIT) -> Image.Image:
    """Resize an RGB image to ``size`` = (height, width) by squash, centre crop or pad."""
    height, width = size
    target = (width, height)
    method = Image.Resampling.LANCZOS
    _check_fit(fit)
    if image.size == target:  # every mode would return the same pixels
        return image
    if fit == "squash":
        return image.resize(target, method, reducing_gap=3.0)
    if fit == "crop":
        return ImageOps.fit(image, target, method)
    return ImageOps.pad(image, target, method, color=PAD_COLOUR)


def pixels_of(image: Image.Image) -> np.ndarray:
    """The uint8 ``(H, W, 3)`` array of an RGB image (read-only: it shares the bytes Pillow made).

    ``np.frombuffer(image.tobytes())``: ``np.asarray(image)`` makes the same
    array through the array interface at several times the cost (38 us
    against 7 us for a 32x32 image, Pillow 13 and NumPy 2).
    """
    width, height = image.size
    return np.frombuffer(image.tobytes(), dtype=np.uint8).reshape(height, width, len(image.getbands()))


def load_pixels(
    source: str | Path | bytes, size: tuple[int, int], *, fit: str = DEFAULT_FIT, draft_factor: int = 2
) -> np.ndarray:
    """Decode ``source`` into a uint8 ``(H, W, 3)`` RGB array of the model's size.

    ``size`` is the model's (height, width). Raises :class:`ImageLoadError`.
    Batches stack these and convert once (:func:`load_image` for one image).
    ``draft_factor``: JPEGs are DCT-decoded to at least this many times the
    target side (2: the final resize still antialiases; teaching uses 1, a
    12-MP photo then decodes at 1/8 scale instead of 1/4, 40% less CPU).
    """
    _check_fit(fit)
    image = _decode(source, draft_factor * max(size))
    return pixels_of(fit_image(image, size, fit))


def load_pixels_at(
    source: str | Path | bytes, sizes: Sequence[tuple[int, int]], *, fit: str = DEFAULT_FIT, extra_min_side: int = 0
) -> tuple[tuple[np.ndarray | None, ...], tuple[int, int]]:
    """Decode ``source`` once into uint8 RGB arrays at each of ``sizes`` ("decode once, resize per model").

    Also returns the image's (width, height) as decoded (upright), before any
    resize: a JPEG drafted for the largest size keeps both sides at least
    twice that size or its own, so a side under 48 pixels is the file's own
    (what the scope check's :func:`~desktop_app.engine.scope.checkable` needs
    without opening the file again). Sizes after the first are None for an
    image whose shorter side is under ``extra_min_side`` (a second model that
    does not look at such images). Raises :class:`ImageLoadError`.
    """
    _check_fit(fit)
    largest = 2 * max(max(size) for size in sizes)
    image = _decode(source, largest)
    decoded_size = image.size
    if len(sizes) > 1 and max(image.size) > largest:
        # Several sizes: shrink once, then fit each size from the smaller image.
        image.thumbnail((largest, largest), Image.Resampling.LANCZOS, reducing_gap=3.0)
    wanted = [i == 0 or min(decoded_size) >= extra_min_side for i in range(len(sizes))]
    return tuple(
        pixels_of(fit_image(image, size, fit)) if keep else None for size, keep in zip(sizes, wanted)
    ), decoded_size


_T = TypeVar("_T")


def decoded_or_error(path: Path, decode: Callable[[], _T]) -> _T | str:
    """``decode()``, or the one-line error text of ``path``: a bad file (or a Pillow bug) costs one row, not the run."""
    try:
        return decode()
    except ImageLoadError as exc:
        return str(exc)
    except Exception as exc:  # a Pillow bug must cost one row too
        return f"{path.name}: unexpected error while decoding ({type(exc).__name__}: {exc})"


def load_image(source: str | Path | bytes, size: tuple[int, int], *, fit: str = DEFAULT_FIT) -> np.ndarray:
    """Decode ``source`` into a float32 ``(H, W, 3)`` array of RGB values 0..255 (the model input).

    ``size`` is the model's (height, width). Raises :class:`ImageLoadError`.
    """
    return load_pixels(source, size, fit=fit).astype(np.float32)
