"""Turn image files into QImages for display (preview, thumbnails).

Display only: what the model sees is decided by the engine's ``load_image``.
Qt's reader is tried first (fast, scaled JPEG decoding, EXIF orientation via
``setAutoTransform``); files Qt cannot read (CMYK JPEG, 16-bit PNG variants,
unusual TIFF ...) fall back to the engine's Pillow decoder. Safe to call from
worker threads: QImage, unlike QPixmap, is not tied to the GUI thread.

Broken files stay quiet: Qt's image-IO warnings are switched off (the engine
reports the real error in the row), and a PNG without its end chunk is never
given to Qt's reader, whose libpng prints "libpng error" to stderr itself.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QLoggingCategory, QSize, Qt
from PySide6.QtGui import QImage, QImageReader

# Lower priority than QT_LOGGING_RULES, so a developer can still turn them back on.
QLoggingCategory.setFilterRules("qt.gui.imageio.warning=false\nqt.gui.imageio.*.warning=false")

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_END = b"IEND\xaeB`\x82"


def _truncated_png(path: str | Path) -> bool:
    """A PNG that does not end with its IEND chunk (libpng would print an error while reading it)."""
    try:
        with open(path, "rb") as f:
            if f.read(8) != _PNG_SIGNATURE:
                return False
            f.seek(-8, 2)
            return f.read(8) != _PNG_END
    except OSError:
        return True


def pil_to_qimage(image) -> QImage:  # noqa: ANN001 (PIL.Image.Image; Pillow imported lazily by the engine)
    """Copy an RGB Pillow image into a QImage that owns its pixels."""
    rgb = image.convert("RGB")
    data = rgb.tobytes("raw", "RGB")
    qimage = QImage(data, rgb.width, rgb.height, rgb.width * 3, QImage.Format.Format_RGB888)
    return qimage.copy()  # detach from the Python bytes buffer


def read_qimage(path: str | Path, max_side: int) -> QImage:
    """Decode ``path`` for display, no side longer than ``max_side``; a null QImage when unreadable."""
    if _truncated_png(path):
        return _pillow_qimage(path, max_side)
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    size = reader.size()
    if size.isValid() and max(size.width(), size.height()) > max_side:
        # Orientation is applied after scaling, so scale the stored (unrotated) size.
        reader.setScaledSize(size.scaled(QSize(max_side, max_side), Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    if not image.isNull():
        return image
    return _pillow_qimage(path, max_side)


def _pillow_qimage(path: str | Path, max_side: int) -> QImage:
    try:
        from desktop_app.engine.images import open_image

        return pil_to_qimage(open_image(path, max_side=max_side))
    except Exception:  # noqa: BLE001 - any failure just means "no preview"; the engine reports the real error
        return QImage()
