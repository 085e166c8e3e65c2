"""Turn image files into QImages for display (preview, thumbnails).

Display only: what the model sees is decided by the engine's ``load_image``.
Qt's reader is tried first (fast, scaled JPEG decoding, EXIF orientation via
``setAutoTransform``); files Qt cannot read (CMYK JPEG, 16-bit PNG variants,
unusual TIFF ...) fall back to the engine's Pillow decoder. Safe to call from
worker threads: QImage, unlike QPixmap, is not tied to the GUI thread.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage, QImageReader


def pil_to_qimage(image) -> QImage:  # noqa: ANN001 (PIL.Image.Image; Pillow imported lazily by the engine)
    """Copy an RGB Pillow image into a QImage that owns its pixels."""
    rgb = image.convert("RGB")
    data = rgb.tobytes("raw", "RGB")
    qimage = QImage(data, rgb.width, rgb.height, rgb.width * 3, QImage.Format.Format_RGB888)
    return qimage.copy()  # detach from the Python bytes buffer


def read_qimage(path: str | Path, max_side: int) -> QImage:
    """Decode ``path`` for display, no side longer than ``max_side``; a null QImage when unreadable."""
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    size = reader.size()
    if size.isValid() and max(size.width(), size.height()) > max_side:
        # Orientation is applied after scaling, so scale the stored (unrotated) size.
        reader.setScaledSize(size.scaled(QSize(max_side, max_side), Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    if not image.isNull():
        return image
    try:
        from desktop_app.engine.images import open_image

        return pil_to_qimage(open_image(path, max_side=max_side))
    except Exception:  # noqa: BLE001 - any failure just means "no preview"; the engine reports the real error
        return QImage()
