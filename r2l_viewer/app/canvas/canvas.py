"""The live view: a QOpenGLWidget that uploads each frame as a texture and draws it (in the split view, the teacher's
frame left of a divider), or a QPainter fallback; the overlay and the colour legend sit over it."""

from __future__ import annotations

import os
import traceback

import numpy as np
from PyQt6.QtCore import QEvent, QObject, QPoint, QRect, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QImage, QOpenGLContext, QPainter, QRegion
from PyQt6.QtOpenGLWidgets import QOpenGLWidget
from PyQt6.QtWidgets import QLabel, QWidget

from r2l_viewer.app.canvas.legend import ColorLegend
from r2l_viewer.app.canvas.overlay import BACKGROUND, fitted_rect, overlay_font, to_qimage
from r2l_viewer.app.canvas.split_divider import DividerDrag, divider_x, line_columns

OVERLAY_STYLE = "background: rgba(0, 0, 0, 150); color: #ececec; padding: 4px 6px; border-radius: 4px;"
OVERLAY_MARGIN = 8  # pixels between the overlay and the canvas edges
OVERLAY_PADDING = 12  # the style's horizontal padding, both sides
MESSAGE_STYLE = "color: #c8c8c8; padding: 12px;"
SIDE_LABEL_GAP = 6  # pixels between the divider and the side labels
SIDE_LABEL_LIFT = 70  # the side labels sit this far above the frame's bottom (clear of the colour legend)

DRAG_BUTTONS = {Qt.MouseButton.LeftButton: "orbit", Qt.MouseButton.RightButton: "pan", Qt.MouseButton.MiddleButton: "pan"}


class PointerInput(QObject):
    """Turns mouse drags and the wheel on a widget into orbit, pan and zoom signals (in widget pixels)."""

    orbit = pyqtSignal(float, float)
    pan = pyqtSignal(float, float)
    zoom = pyqtSignal(float)

    def __init__(self, widget: QWidget):
        super().__init__(widget)
        self._last, self._mode = None, None
        widget.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:
        kind = event.type()
        if kind == QEvent.Type.MouseButtonPress and event.button() in DRAG_BUTTONS:
            self._last, self._mode = event.position(), DRAG_BUTTONS[event.button()]
            obj.setFocus()
            return True
        if kind == QEvent.Type.MouseMove and self._mode is not None:
            pos = event.position()
            dx, dy = pos.x() - self._last.x(), pos.y() - self._last.y()
            self._last = pos
            if dx or dy:
                getattr(self, self._mode).emit(dx, dy)
            return True
        if kind == QEvent.Type.MouseButtonRelease and event.button() in DRAG_BUTTONS:
            self._last, self._mode = None, None
            return True
        if kind == QEvent.Type.Wheel:
            steps = event.angleDelta().y() / 120.0
            if steps:
                self.zoom.emit(steps)
            return True
        return False


class CanvasState:
    """What both canvases keep: the newest frame, the split view's left frame and divider, the overlay (a child
    label over the image), the colour legend and a message label for an empty view. Child widgets keep text out of
    the GL drawing and show up in window grabs."""

    def _init_canvas(self) -> None:
        self.frame: np.ndarray | None = None
        self._uploaded = False  # whether the GL texture holds `frame`
        self.left_frame: np.ndarray | None = None  # the split view's teacher side, drawn left of the divider
        self._left_uploaded = False
        self.split_active = False
        self.divider = 0.5  # share of the frame's width left of the divider
        self.navigation_cursor = Qt.CursorShape.OpenHandCursor
        self.overlay: list[str] = []
        self.frames_drawn = 0
        self.surround = BACKGROUND  # around a frame of another aspect: the scene's background colour
        self.overlay_label = QLabel(self)
        self.overlay_label.setFont(overlay_font())
        self.overlay_label.setStyleSheet(OVERLAY_STYLE)
        self.overlay_label.move(OVERLAY_MARGIN, OVERLAY_MARGIN)
        self.overlay_label.hide()
        self.message_label = QLabel("loading...", self)
        self.message_label.setStyleSheet(MESSAGE_STYLE)
        self.message_label.setWordWrap(True)
        self.message_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.side_labels = (QLabel("teacher", self), QLabel("student", self))  # either side of the divider
        for label in self.side_labels:
            label.setFont(overlay_font())
            label.setStyleSheet(OVERLAY_STYLE)
            label.adjustSize()
            label.hide()
        for label in (self.overlay_label, self.message_label, *self.side_labels):
            label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setMinimumSize(160, 160)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(self.navigation_cursor)
        self.legend = ColorLegend(self)
        self.pointer = PointerInput(self)
        self.divider_drag = DividerDrag(self)  # after the pointer: it sees presses on the divider first
        self.divider_drag.moved.connect(self.set_divider)

    def set_surround(self, rgb: tuple) -> None:
        """Fill the room beside a frame of another aspect with this colour (the scene's background, RGB in [0, 1]),
        so the frame meets it without dark bars."""
        self.surround = QColor.fromRgbF(*(float(min(max(c, 0.0), 1.0)) for c in rgb[:3]))
        self.update()

    def _fill(self) -> QColor:
        return self.surround if self.frame is not None else BACKGROUND  # (the light message text needs the dark)

    def show_frame(self, rgb: np.ndarray) -> None:
        self.frame = rgb
        self._uploaded = False
        self.message_label.hide()
        self._place_side_labels()
        self.update()

    def show_left(self, rgb: np.ndarray | None) -> None:
        """The split view's left side (the teacher for the same camera; any size, drawn over the same rectangle)."""
        self.left_frame = rgb
        self._left_uploaded = False
        self._place_side_labels()
        self.update()

    def set_split(self, active: bool, divider: float) -> None:
        """Draw the left frame left of the divider (at `divider` of the width), or the main frame alone."""
        self.split_active, self.divider = active, divider
        self._place_side_labels()
        self.update()

    def set_divider(self, divider: float) -> None:
        self.divider = divider
        self._place_side_labels()
        self.update()

    def _place_side_labels(self) -> None:
        """'teacher' and 'student' just left and right of the divider, near the frame's bottom."""
        line = self.divider_line_x()
        teacher, student = self.side_labels
        for label in self.side_labels:
            label.setVisible(line is not None)
        if line is None:
            return
        y = self.display_rect().bottom() - teacher.height() - SIDE_LABEL_LIFT
        teacher.move(line - teacher.width() - SIDE_LABEL_GAP, y)
        student.move(line + SIDE_LABEL_GAP, y)

    def divider_line_x(self) -> int | None:
        """The divider's widget x while the split view shows both sides, else None (before the teacher's side came,
        the student's frame is shown whole)."""
        if not (self.split_active and self.frame is not None and self.left_frame is not None):
            return None
        return divider_x(self.display_rect(), self.divider)

    def set_navigation_cursor(self, shape) -> None:
        self.navigation_cursor = shape
        self.setCursor(shape)

    def set_overlay(self, lines: list[str]) -> None:
        self.overlay = lines
        self._fit_overlay()
        self.overlay_label.setVisible(bool(lines))

    def _fit_overlay(self) -> None:
        """The overlay's lines, each cut with '…' where the canvas is narrower than it (never clipped mid-glyph)."""
        room = max(self.width() - 2 * OVERLAY_MARGIN - OVERLAY_PADDING - 2, 0)
        metrics = self.overlay_label.fontMetrics()
        lines = [metrics.elidedText(line, Qt.TextElideMode.ElideRight, room) for line in self.overlay]
        self.overlay_label.setText("\n".join(lines))
        self.overlay_label.adjustSize()

    def set_message(self, text: str) -> None:
        """A note shown while there is no frame (no model, loading)."""
        self.message_label.setText(text)
        self.message_label.setVisible(self.frame is None)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.message_label.setGeometry(0, 0, self.width(), self.height())
        self._fit_overlay()
        self.legend.place()
        self._place_side_labels()

    def display_rect(self) -> QRect:
        """Where the frame is drawn, in widget pixels (letterboxed to the frame's aspect)."""
        if self.frame is None:
            return QRect(0, 0, self.width(), self.height())
        h, w = self.frame.shape[:2]
        return fitted_rect(w, h, self.width(), self.height())


class GLCanvas(CanvasState, QOpenGLWidget):
    """Draws frames with OpenGL; if the context cannot do it, paints them with QPainter instead."""

    frame_drawn = pyqtSignal()
    uses_gl = True

    def __init__(self, parent=None):
        super().__init__(parent)
        self._init_canvas()
        self.blitter = self.left_blitter = None
        self.gl_error: str | None = None

    def initializeGL(self) -> None:
        try:
            from r2l_viewer.app.canvas.gl_blit import TextureBlitter

            self.blitter, self.left_blitter = TextureBlitter(), TextureBlitter()
            self._uploaded = self._left_uploaded = False  # a new context (the widget moved to another window)
            self.context().aboutToBeDestroyed.connect(self._release_gl)
        except Exception as exc:  # no usable GL: paint with QPainter inside this widget
            traceback.print_exc()
            self.gl_error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__

    def _release_gl(self) -> None:
        if self.blitter is not None:
            self.makeCurrent()
            self.blitter.delete()
            self.left_blitter.delete()
            self.blitter = self.left_blitter = None
            self.doneCurrent()

    def paintGL(self) -> None:
        from OpenGL import GL

        fill = self._fill()
        GL.glClearColor(fill.redF(), fill.greenF(), fill.blueF(), 1.0)
        GL.glClear(GL.GL_COLOR_BUFFER_BIT)
        rect = self.display_rect()
        if self.frame is not None and self.blitter is not None:
            if not self._uploaded:
                self.blitter.upload(self.frame)
                self._uploaded = True
            self.blitter.draw(*self._gl_rect(rect))
            if self.divider_line_x() is not None:
                self._draw_left_gl(rect)
        elif self.frame is not None:  # the context could not set up the blitter
            painter = QPainter(self)
            paint_frames(self, painter, rect)
            painter.end()
        if self.frame is not None:
            self.frames_drawn += 1
            self.frame_drawn.emit()

    def _gl_rect(self, rect: QRect) -> tuple[int, int, int, int]:
        """A widget rectangle in GL device pixels (origin bottom left): x, y, width, height."""
        ratio = self.devicePixelRatioF()
        bottom = self.height() - rect.y() - rect.height()
        return round(rect.x() * ratio), round(bottom * ratio), round(rect.width() * ratio), round(rect.height() * ratio)

    def _draw_left_gl(self, rect: QRect) -> None:
        """The left frame over the same rectangle, cut at the divider (scissor), then the divider's line."""
        from OpenGL import GL

        if not self._left_uploaded:
            self.left_blitter.upload(self.left_frame)
            self._left_uploaded = True
        line = self.divider_line_x()
        x, y, _, height = self._gl_rect(rect)
        ratio = self.devicePixelRatioF()
        GL.glEnable(GL.GL_SCISSOR_TEST)
        GL.glScissor(x, y, max(round(line * ratio) - x, 0), height)
        self.left_blitter.draw(*self._gl_rect(rect))
        for column, colour in line_columns(line):
            GL.glScissor(round(column * ratio), y, max(round(ratio), 1), height)
            GL.glClearColor(colour.redF(), colour.greenF(), colour.blueF(), 1.0)
            GL.glClear(GL.GL_COLOR_BUFFER_BIT)
        GL.glDisable(GL.GL_SCISSOR_TEST)

    def frame_image(self) -> QImage:
        """What the canvas shows, read back from its framebuffer."""
        return self.grabFramebuffer()


class PainterCanvas(CanvasState, QWidget):
    """The fallback canvas where no OpenGL context can be made: frames drawn by QPainter."""

    frame_drawn = pyqtSignal()
    uses_gl = False
    gl_error = "no OpenGL context"

    def __init__(self, parent=None):
        super().__init__(parent)
        self._init_canvas()
        self.setAutoFillBackground(True)
        palette = self.palette()
        palette.setColor(self.backgroundRole(), BACKGROUND)
        self.setPalette(palette)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        if self.frame is not None:
            painter.fillRect(self.rect(), self._fill())
            paint_frames(self, painter, self.display_rect())
        painter.end()
        if self.frame is not None:
            self.frames_drawn += 1
            self.frame_drawn.emit()

    def frame_image(self) -> QImage:
        """What the canvas paints, without the overlay and the other labels over it (as the GL canvas' read-back)."""
        ratio = self.devicePixelRatioF()
        image = QImage(round(self.width() * ratio), round(self.height() * ratio), QImage.Format.Format_RGB32)
        image.setDevicePixelRatio(ratio)
        self.render(image, QPoint(), QRegion(), QWidget.RenderFlag.DrawWindowBackground)
        return image


def paint_frames(canvas: CanvasState, painter: QPainter, rect: QRect) -> None:
    """Draw the canvas' frame (and in the split view its left frame and the divider) with QPainter."""
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    painter.drawImage(rect, to_qimage(canvas.frame))
    line = canvas.divider_line_x()
    if line is None:
        return
    painter.save()
    painter.setClipRect(QRect(rect.x(), rect.y(), line - rect.x(), rect.height()))
    painter.drawImage(rect, to_qimage(canvas.left_frame))
    painter.restore()
    for column, colour in line_columns(line):
        painter.fillRect(QRect(column, rect.y(), 1, rect.height()), colour)


def opengl_available() -> bool:
    """Whether an OpenGL context can be created here (not on the 'offscreen' platform, nor when disabled)."""
    if os.environ.get("R2L_VIEWER_NO_GL"):
        return False
    context = QOpenGLContext()
    return bool(context.create())


def make_canvas(parent=None) -> GLCanvas | PainterCanvas:
    return GLCanvas(parent) if opengl_available() else PainterCanvas(parent)
