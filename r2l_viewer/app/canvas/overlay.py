"""Painting helpers shared by the canvases and image panes: aspect-fitted rectangles, images, fonts, messages."""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QRect, Qt
from PyQt6.QtGui import QColor, QFont, QImage, QPainter

BACKGROUND = QColor(38, 40, 44)


def fitted_rect(frame_w: int, frame_h: int, area_w: int, area_h: int) -> QRect:
    """The largest rectangle of the frame's aspect ratio centred in an area."""
    if frame_w <= 0 or frame_h <= 0 or area_w <= 0 or area_h <= 0:
        return QRect(0, 0, max(area_w, 0), max(area_h, 0))
    scale = min(area_w / frame_w, area_h / frame_h)
    w, h = max(1, round(frame_w * scale)), max(1, round(frame_h * scale))
    return QRect((area_w - w) // 2, (area_h - h) // 2, w, h)


def to_qimage(rgb: np.ndarray) -> QImage:
    """A QImage that owns a copy of an H x W x 3 uint8 array."""
    rgb = np.ascontiguousarray(rgb)
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def overlay_font() -> QFont:
    font = QFont("monospace")
    font.setStyleHint(QFont.StyleHint.Monospace)
    font.setPointSize(9)
    return font


def draw_centered_message(painter: QPainter, rect: QRect, text: str) -> None:
    painter.save()
    painter.setPen(QColor(200, 200, 200))
    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, text)
    painter.restore()
