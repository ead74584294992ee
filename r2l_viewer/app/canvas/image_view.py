"""A small image pane with a caption, aspect-fitted, that can be marked stale (dimmed, with a note)."""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QRect, QSize, Qt
from PyQt6.QtGui import QColor, QPainter
from PyQt6.QtWidgets import QSizePolicy, QWidget

from r2l_viewer.app.canvas.overlay import BACKGROUND, draw_centered_message, fitted_rect, to_qimage

CAPTION_HEIGHT = 18


class ImageView(QWidget):
    """Shows an H x W x 3 uint8 image under a caption; `set_stale(True)` dims it and says why."""

    def __init__(self, caption: str, parent=None):
        super().__init__(parent)
        self.caption = caption
        self.image = None
        self.stale_note = ""
        self.dimmed = True
        self.empty_note = "waiting..."
        self.setMinimumSize(120, 120 + CAPTION_HEIGHT)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:
        return QSize(220, 220 + CAPTION_HEIGHT)

    def fit_width(self, width: int) -> None:
        """Square image area for the width the layout gives (the panel calls this when it resizes)."""
        self.setFixedHeight(max(width, 120) + CAPTION_HEIGHT)

    def set_image(self, rgb: np.ndarray | None, stale_note: str = "", dimmed: bool = True) -> None:
        """Show an image (scaled to the pane), with a note over it; `dimmed` darkens it under the note."""
        self.image = None if rgb is None else to_qimage(rgb)
        self.stale_note, self.dimmed = stale_note, dimmed
        self.update()

    def set_stale(self, note: str) -> None:
        self.stale_note, self.dimmed = note, True
        self.update()

    def set_empty_note(self, note: str) -> None:
        self.empty_note = note
        self.update()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.setPen(self.palette().windowText().color())
        painter.drawText(QRect(0, 0, self.width(), CAPTION_HEIGHT), Qt.AlignmentFlag.AlignCenter, self.caption)
        area = QRect(0, CAPTION_HEIGHT, self.width(), self.height() - CAPTION_HEIGHT)
        painter.fillRect(area, BACKGROUND)
        if self.image is None:
            draw_centered_message(painter, area, self.empty_note)
        else:
            rect = fitted_rect(self.image.width(), self.image.height(), area.width(), area.height())
            painter.drawImage(rect.translated(0, CAPTION_HEIGHT), self.image)
            if self.stale_note:
                if self.dimmed:
                    painter.fillRect(rect.translated(0, CAPTION_HEIGHT), QColor(0, 0, 0, 110))
                painter.setPen(QColor(255, 210, 90))
                draw_note = QRect(area.x(), area.bottom() - 24, area.width(), 22)
                painter.drawText(draw_note, Qt.AlignmentFlag.AlignCenter, self.stale_note)
        painter.end()
