"""`--screenshot`: save the whole window once the first full-size frame (both sides of a split view) and the
teacher's view are up."""

from __future__ import annotations

import sys
import time

from PyQt6.QtCore import QObject, QTimer

from r2l_viewer.core.image_files import ImageWriteError

from r2l_viewer.app.saving import save_pixmap_png


class ScreenshotOnReady(QObject):
    """Waits for the live view's first full-size frame (rest frames are never capped to a smaller size here,
    however slow the model), in the split view also its teacher side, and, if the scene has a teacher, the compare
    result; then saves the window as a PNG
    and closes it. A scene with neither model is saved at once. After `timeout_s` it saves what there is and
    exits with 1."""

    def __init__(self, window, path: str, timeout_s: float):
        super().__init__(window)
        self.window, self.path = window, path
        self.started = time.perf_counter()
        self.full_frame = window.session.live_model()[0] is None  # nothing to render: only the message to show
        self.teacher = window.session.teacher is None  # nothing to wait for without a teacher
        self.left = window.live.plan.left is None  # no split view: no teacher side to wait for
        self.exit_code = 1
        self.done = False
        self.saved_frame = None  # the live frame on the canvas when the window was saved
        window.live.never_cap_rest_frames()
        window.live.full_frame_shown.connect(self._on_full_frame)
        window.live.full_left_shown.connect(self._on_full_left)
        window.compare.teacher_shown.connect(self._on_teacher)
        QTimer.singleShot(int(timeout_s * 1000), self._on_timeout)
        QTimer.singleShot(0, self._maybe_save)

    def _on_full_frame(self, frame) -> None:
        if self.window.live.is_full_size(frame):
            self.full_frame = True
            self._maybe_save()

    def _on_full_left(self, frame) -> None:
        if self.window.live.is_full_size(frame):
            self.left = True
            self._maybe_save()

    def _on_teacher(self) -> None:
        self.teacher = True
        self._maybe_save()

    def _maybe_save(self) -> None:
        if self.full_frame and self.teacher and self.left and not self.done:
            self.done = True
            QTimer.singleShot(300, lambda: self._save(0))  # let the canvas paint the frame first

    def _on_timeout(self) -> None:
        if not self.done:
            self.done = True
            print("r2l-viewer: screenshot: timed out waiting for the views; saving what is shown", file=sys.stderr)
            self._save(1)

    def _save(self, code: int) -> None:
        self.saved_frame = self.window.live.last_frame
        try:
            save_pixmap_png(self.window.grab(), self.path)
            ok = True
        except ImageWriteError as exc:
            ok = False
            print(f"r2l-viewer: error: {exc}", file=sys.stderr)
        elapsed = time.perf_counter() - self.started
        if ok:
            print(f"r2l-viewer: saved {self.path} after {elapsed:.1f} s", file=sys.stderr)
        self.exit_code = code if ok else 2
        self.window.close()  # it ends its threads first; the app quits once it has closed
