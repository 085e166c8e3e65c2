"""The large drop target that also shows the current image.

Takes files and folders (URLs), raw image data (dragged from a browser or
pasted), and clicks (open a file dialog). It only reports what arrived; the
main window decides what to do with it.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QMimeData, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QImage, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QFrame, QSizePolicy, QWidget

from desktop_app.ui.signals import emit
from desktop_app.ui.text import classes_text, plural

PLACEHOLDER = "Drop images or folders here\n\nor click to open, or paste an image (Ctrl+V)"


def placeholder_text(labels: Sequence[str]) -> str:
    """The empty image view with a model chosen: how to start and what the model can tell apart."""
    return f"{PLACEHOLDER}\n\nThis model knows {plural(len(labels), 'class', 'classes')}: {classes_text(labels)}"


def paths_from_mime(mime: QMimeData) -> list[str]:
    """Local file and folder paths carried by drag-and-drop or clipboard data."""
    if not mime.hasUrls():
        return []
    return [url.toLocalFile() for url in mime.urls() if url.isLocalFile() and url.toLocalFile()]


def image_from_mime(mime: QMimeData) -> QImage | None:
    """Raw image data (no file behind it), e.g. a screenshot on the clipboard."""
    if not mime.hasImage():
        return None
    image = mime.imageData()
    if isinstance(image, QPixmap):
        image = image.toImage()
    return image if isinstance(image, QImage) and not image.isNull() else None


class DropArea(QFrame):
    """Drop target and image preview; emits what the user gave it."""

    paths_dropped = Signal(list)  # list[str]
    image_pasted = Signal(QImage)
    clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(240, 200)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Drop image files or folders here, click to open an image, or paste one with Ctrl+V")
        self.setAccessibleName("Image drop area")
        self._image: QImage | None = None
        self._message = PLACEHOLDER
        self._hover = False

    # --- content ----------------------------------------------------------
    def set_image(self, image: QImage | None) -> None:
        """Show ``image`` (aspect kept) instead of the placeholder text."""
        self._image = image if image is not None and not image.isNull() else None
        self.update()

    def image(self) -> QImage | None:
        return self._image

    def set_message(self, text: str) -> None:
        """Text shown when there is no image (placeholder, empty state, errors)."""
        self._message = text
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(420, 360)

    # --- input ------------------------------------------------------------
    def handle_mime(self, mime: QMimeData) -> bool:
        """Emit paths or an image from ``mime``; True when something usable was there."""
        paths = paths_from_mime(mime)
        if paths:
            emit(self.paths_dropped, paths)
            return True
        image = image_from_mime(mime)
        if image is not None:
            emit(self.image_pasted, image)
            return True
        return False

    def dragEnterEvent(self, event) -> None:  # noqa: N802, ANN001
        mime = event.mimeData()
        if paths_from_mime(mime) or mime.hasImage():
            event.acceptProposedAction()
            self._hover = True
            self.update()
        else:
            event.ignore()

    def dragLeaveEvent(self, event) -> None:  # noqa: N802, ANN001
        self._hover = False
        self.update()

    def dropEvent(self, event) -> None:  # noqa: N802, ANN001
        self._hover = False
        self.update()
        if self.handle_mime(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802, ANN001
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(event.position().toPoint()):
            emit(self.clicked)
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event) -> None:  # noqa: N802, ANN001
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            emit(self.clicked)
        else:
            super().keyPressEvent(event)

    # --- painting ---------------------------------------------------------
    def paintEvent(self, event) -> None:  # noqa: N802, ANN001
        super().paintEvent(event)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        pal = self.palette()
        area = QRectF(self.contentsRect()).adjusted(8, 8, -8, -8)
        if self._image is not None:
            size = self._image.size().scaled(area.size().toSize(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRectF(0, 0, size.width(), size.height())
            target.moveCenter(area.center())
            painter.drawImage(target, self._image)
        else:
            pen = QPen(pal.color(QPalette.ColorRole.Highlight if self._hover else QPalette.ColorRole.Mid), 2)
            pen.setStyle(Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.drawRoundedRect(area, 12, 12)
            painter.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(area, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._message)
        if self._hover and self._image is not None:
            painter.setPen(QPen(pal.color(QPalette.ColorRole.Highlight), 3))
            painter.drawRect(QRectF(self.rect()).adjusted(1.5, 1.5, -1.5, -1.5))
        painter.end()
