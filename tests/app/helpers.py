"""Input and readback helpers for the app tests: synthetic mouse and wheel events, canvas pixels, waiting."""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QEvent, QPoint, QPointF, Qt
from PyQt6.QtGui import QImage, QMouseEvent, QWheelEvent
from PyQt6.QtWidgets import QApplication

NO_MODIFIER = Qt.KeyboardModifier.NoModifier


def _mouse(widget, kind, pos, button, buttons):
    local = QPointF(pos)
    event = QMouseEvent(kind, local, QPointF(widget.mapToGlobal(local)), button, buttons, NO_MODIFIER)
    QApplication.sendEvent(widget, event)


def drag(widget, start, end, button=Qt.MouseButton.LeftButton, steps: int = 5):
    """Press at `start`, move to `end` in a few steps, release."""
    _mouse(widget, QEvent.Type.MouseButtonPress, QPoint(*start), button, button)
    for k in range(1, steps + 1):
        x = start[0] + (end[0] - start[0]) * k / steps
        y = start[1] + (end[1] - start[1]) * k / steps
        _mouse(widget, QEvent.Type.MouseMove, QPoint(round(x), round(y)), Qt.MouseButton.NoButton, button)
    _mouse(widget, QEvent.Type.MouseButtonRelease, QPoint(*end), button, Qt.MouseButton.NoButton)


def wheel(widget, notches: float, pos=(50, 50)):
    local = QPointF(*pos)
    event = QWheelEvent(local, QPointF(widget.mapToGlobal(local)), QPoint(), QPoint(0, round(120 * notches)),
                        Qt.MouseButton.NoButton, NO_MODIFIER, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def image_array(image: QImage) -> np.ndarray:
    """A QImage as an H x W x 3 uint8 array."""
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    h, w, stride = image.height(), image.width(), image.bytesPerLine()
    data = np.frombuffer(image.constBits().asstring(stride * h), dtype=np.uint8).reshape(h, stride)
    return data[:, : w * 3].reshape(h, w, 3).copy()


def at_rest(window) -> bool:
    """The newest camera's full-resolution frame is on the canvas."""
    frame = window.live.last_frame
    latest = window.live.worker.mailbox.latest_serial
    return frame is not None and frame.full and frame.serial == latest and window.canvas.frames_drawn > 0


def wait_at_rest(qtbot, window, timeout: int = 30_000) -> None:
    qtbot.waitUntil(lambda: at_rest(window), timeout=timeout)


def changed_image(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two frames differ visibly (another size counts as different)."""
    return a.shape != b.shape or np.abs(a.astype(int) - b).mean() > 2
