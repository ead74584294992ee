"""The split view's divider on the canvas: where its line is drawn, and dragging it with the mouse."""

from __future__ import annotations

from PyQt6.QtCore import QEvent, QObject, QRect, Qt, pyqtSignal
from PyQt6.QtGui import QColor

from r2l_viewer.app.view_settings import DIVIDER_LIMITS

GRAB_PIXELS = 6  # a press this close to the divider drags it instead of moving the camera
LINE = (QColor(30, 30, 30), QColor(245, 245, 245), QColor(245, 245, 245), QColor(30, 30, 30))  # columns, left to right


def divider_x(rect: QRect, fraction: float) -> int:
    """The widget x of the divider in a frame drawn at `rect`: `fraction` of its width from the left."""
    return rect.x() + round(fraction * rect.width())


def line_columns(x: int) -> list[tuple[int, QColor]]:
    """(widget x, colour) of each column of the divider's line at `x`: light in the middle, dark edges, so it shows
    on white and on dark scenes."""
    return [(x - 2 + k, colour) for k, colour in enumerate(LINE)]


class DividerDrag(QObject):
    """Takes left-button drags that start on the divider (before the camera's PointerInput sees them) and shows a
    split cursor over it. `moved` while dragging, `released` once, with the divider's new fraction."""

    moved = pyqtSignal(float)
    released = pyqtSignal(float)

    def __init__(self, canvas):
        super().__init__(canvas)
        self.canvas = canvas
        self.dragging = False
        canvas.setMouseTracking(True)
        canvas.installEventFilter(self)  # installed after PointerInput, so it filters first

    def _near(self, x: float) -> bool:
        line = self.canvas.divider_line_x()
        return line is not None and abs(x - line) <= GRAB_PIXELS

    def _fraction(self, x: float) -> float:
        rect = self.canvas.display_rect()
        share = (x - rect.x()) / max(rect.width(), 1)
        return min(max(share, DIVIDER_LIMITS[0]), DIVIDER_LIMITS[1])

    def eventFilter(self, obj, event) -> bool:
        kind = event.type()
        if kind == QEvent.Type.MouseButtonPress and event.button() == Qt.MouseButton.LeftButton:
            if self._near(event.position().x()):
                self.dragging = True
                obj.setFocus()
                return True
        elif kind == QEvent.Type.MouseMove:
            if self.dragging:
                self.moved.emit(self._fraction(event.position().x()))
                return True
            self._hover(event.position().x())
        elif kind == QEvent.Type.MouseButtonRelease and self.dragging and event.button() == Qt.MouseButton.LeftButton:
            self.dragging = False
            self.released.emit(self._fraction(event.position().x()))
            return True
        return False

    def _hover(self, x: float) -> None:
        near = self._near(x)
        if near and self.canvas.cursor().shape() != Qt.CursorShape.SplitHCursor:
            self.canvas.setCursor(Qt.CursorShape.SplitHCursor)
        elif not near and self.canvas.cursor().shape() == Qt.CursorShape.SplitHCursor:
            self.canvas.setCursor(self.canvas.navigation_cursor)
