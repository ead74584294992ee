"""The colour legend over the canvas in depth and error modes: a title, the colour bar, its low and high values."""

from __future__ import annotations

import numpy as np
import torch
from PyQt6.QtCore import QRect, Qt
from PyQt6.QtGui import QColor, QPainter
from PyQt6.QtWidgets import QWidget

from r2l_viewer.core.colormap import heat, turbo

from r2l_viewer.app.canvas.overlay import overlay_font, to_qimage
from r2l_viewer.app.canvas.view_modes import Legend

SIZE = (230, 52)
MARGIN = 8
BAR_HEIGHT = 10
PADDING = 6  # between the box's edge and its text


def colour_bar(legend: Legend, width: int = 256) -> np.ndarray:
    """The legend's colours from low to high as a 1 x width x 3 uint8 image."""
    x = torch.linspace(0.0, 1.0, width)
    colours = turbo(x) if legend.colormap == "turbo" else heat(x, 1.0)
    return (colours * 255 + 0.5).to(torch.uint8).numpy()[None]


class ColorLegend(QWidget):
    """Sits at the canvas' bottom left; hidden without a legend. Mouse events pass through to the canvas."""

    def __init__(self, parent):
        super().__init__(parent)
        self.legend: Legend | None = None
        self.bar = None
        self.setFont(overlay_font())
        self.setFixedSize(*SIZE)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.hide()

    def set_legend(self, legend: Legend | None) -> None:
        if legend != self.legend:
            self.legend = legend
            self.bar = None if legend is None else to_qimage(colour_bar(legend))
            title = 0 if legend is None else self.fontMetrics().horizontalAdvance(legend.title) + 2 * PADDING
            self.setFixedSize(max(SIZE[0], title), SIZE[1])  # the whole title, however long
            self.update()
        self.setVisible(legend is not None)
        self.place()

    def place(self) -> None:
        parent = self.parentWidget()
        self.move(MARGIN, max(parent.height() - self.height() - MARGIN, 0))

    def paintEvent(self, event) -> None:
        if self.legend is None:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 150))
        painter.drawRoundedRect(self.rect(), 4, 4)
        inner = self.rect().adjusted(PADDING, 3, -PADDING, -3)
        line = painter.fontMetrics().height()
        painter.setPen(QColor(236, 236, 236))
        painter.drawText(QRect(inner.x(), inner.y(), inner.width(), line), Qt.AlignmentFlag.AlignLeft,
                         self.legend.title)
        bar = QRect(inner.x(), inner.y() + line + 2, inner.width(), BAR_HEIGHT)
        painter.drawImage(bar, self.bar)
        below = QRect(inner.x(), bar.bottom() + 2, inner.width(), line)
        painter.drawText(below, Qt.AlignmentFlag.AlignLeft, self.legend.low_text)
        painter.drawText(below, Qt.AlignmentFlag.AlignRight, self.legend.high_text)
        painter.end()
