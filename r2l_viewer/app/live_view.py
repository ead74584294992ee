"""The live view's controller: forwards mouse and keys to the OrbitCamera and asks the render thread for frames."""

from __future__ import annotations

import math
from pathlib import Path

from PyQt6.QtCore import QEvent, QObject, QTimer, pyqtSignal

from r2l_viewer.core.config import to_dict
from r2l_viewer.core.orbit import OrbitCamera
from trainers.configs import PseudoConfig
from trainers.training.views import view_ranges

from .pacing import DynamicResolution, FpsMeter, scaled_size
from .render_worker import Frame, RenderRequest, RenderWorker
from .saving import save_view_png

REST_MS = 150  # no camera change for this long: render full resolution
LIMIT_NOTES = {"zoom": "zoom limit: the student learnt views from this range only",
               "elevation": "tilt limit: the student learnt views from these heights only"}


def student_views(session) -> dict | None:
    """The views the open student was trained on (the distill job records them; the paper's pseudo-view settings
    for older checkpoints); None without a student, whose teacher renders any view of its box."""
    record = session.checkpoint.student
    if session.student is None or record is None:
        return None
    return record.get("views") or view_ranges(session.meta, to_dict(PseudoConfig()))


class LiveView(QObject):
    """Camera, dynamic resolution and overlay for one canvas; emits when the camera moves and frames arrive."""

    camera_moved = pyqtSignal()
    frame_shown = pyqtSignal(object)  # Frame
    full_frame_shown = pyqtSignal(object)  # the current camera's full-resolution Frame
    message = pyqtSignal(str)

    def __init__(self, session, canvas, device_text: str, fixed_size: tuple[int, int] | None = None, parent=None):
        super().__init__(parent)
        self.session, self.canvas, self.device_text = session, canvas, device_text
        self.fixed_size = fixed_size
        self.camera = OrbitCamera.for_scene(session.meta)
        self.camera_ref: tuple[str, int] | None = None
        self._camera_index = -1
        self.governor = DynamicResolution()
        self.fps = FpsMeter()
        self.last_frame: Frame | None = None
        self.moving = False
        self._full_after_preview = False
        self.worker = RenderWorker()
        self.worker.frame_ready.connect(self._on_frame)
        self.worker.render_failed.connect(self.message)
        self.rest_timer = QTimer(self, singleShot=True, interval=REST_MS, timeout=self._rest)
        pointer = canvas.pointer
        pointer.orbit.connect(self.orbit)
        pointer.pan.connect(self.pan)
        pointer.zoom.connect(self.zoom)
        canvas.installEventFilter(self)
        session.opened.connect(self.start_afresh)
        canvas.set_surround(session.meta.background)
        self.sync_model()
        self.worker.start()

    def start_afresh(self) -> None:
        """Another scene was opened: its own camera and orbit, and the frame cost learnt again for its model."""
        self.camera = OrbitCamera.for_scene(self.session.meta)
        self.camera_ref, self._camera_index = None, -1
        self.governor = DynamicResolution()
        self.moving = False
        self.canvas.set_surround(self.session.meta.background)

    # ---- camera input -------------------------------------------------------------------------------------
    def orbit(self, dx: float, dy: float) -> None:
        self.camera.orbit(dx, dy)
        self._moved()

    def pan(self, dx: float, dy: float) -> None:
        width, height = self.full_size()
        shown = max(self.canvas.display_rect().width(), 1)  # focal length in on-screen pixels
        self.camera.pan(dx, dy, self.intrinsics(width, height).fx * shown / width)
        self._moved()

    def zoom(self, steps: float) -> None:
        self.camera.zoom(steps)
        self._moved()

    def reset(self) -> None:
        self.camera.reset()
        self._moved()

    def step_camera(self, delta: int) -> None:
        """Jump to the next (+1) or previous (-1) dataset camera."""
        cameras = self.session.dataset_cameras()
        if not cameras:
            self.message.emit("this checkpoint holds no dataset cameras")
            return
        start = self._camera_index if self._camera_index >= 0 else (-1 if delta > 0 else 0)  # ] first, [ last
        self._camera_index = (start + delta) % len(cameras)
        split, index, pose = cameras[self._camera_index]
        self.camera.snap_to(pose)
        self.camera_ref = (split, index)
        self._moved()

    def show_pose(self, c2w, focal_scale: float = 1.0) -> None:
        """Show exactly this camera-to-world pose at this zoom (a camera path's frame); the orbit goes on from it."""
        self.camera.snap_to(c2w)
        self.camera.focal_scale = focal_scale
        self.camera_ref, self._camera_index = None, -1
        self._moved()

    def _moved(self) -> None:
        if self.camera.pinned is None:
            self.camera_ref = None
        self.moving = True
        self._full_after_preview = False
        self._request(full=False)
        self.rest_timer.start()
        self.camera_moved.emit()

    def _rest(self) -> None:
        self.moving = False
        self._request(full=True)

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Type.Resize and self.fixed_size is None:
            self.rest_timer.start()
        return False

    # ---- rendering ----------------------------------------------------------------------------------------
    def full_size(self) -> tuple[int, int]:
        """(width, height) of a full-resolution frame: --size, else the canvas, at the scene's aspect ratio."""
        native = self.session.meta.intrinsics
        if self.fixed_size is not None:
            area_w, area_h = self.fixed_size
        else:
            ratio = self.canvas.devicePixelRatioF()
            area_w, area_h = round(self.canvas.width() * ratio), round(self.canvas.height() * ratio)
        scale = min(area_w / native.width, area_h / native.height)
        return max(16, round(native.width * scale)), max(16, round(native.height * scale))

    def intrinsics(self, width: int, height: int):
        return self.session.meta.intrinsics.resized(height, width).zoomed(self.camera.focal_scale)

    def sync_model(self) -> None:
        """Render with the session's current live model from the next frame on, the camera kept to the views a
        student was trained on."""
        self.camera.within(student_views(self.session))
        model, label = self.session.live_model()
        self.worker.set_model(model, label)
        if model is None:
            self.canvas.set_message("this checkpoint has no teacher and no student yet: train one in the Train tab")

    def refresh(self, full: bool = True) -> None:
        """Render the current view again (the model or the canvas changed); `full=False` renders at the moving
        resolution, cheap enough to follow a model while it trains."""
        self.sync_model()
        if self.moving:
            return
        if full and self.governor.seconds_per_pixel is None:  # first frame: a quick preview, then full size
            self._full_after_preview = True
            full = False
        self._request(full=full)

    def _request(self, full: bool) -> None:
        width, height = self.full_size()
        pixels = width * height
        scale = self.governor.rest_scale(pixels) if full else self.governor.moving_scale(pixels)
        width, height = scaled_size(width, height, scale)
        self.worker.request(RenderRequest(self.camera.c2w(), self.intrinsics(width, height), full))

    def _on_frame(self, frame: Frame) -> None:
        self.last_frame = frame
        if self._full_after_preview and not self.moving:
            self._full_after_preview = False
            self._request(full=True)
        self.canvas.show_frame(frame.rgb)
        self.fps.tick()
        if not frame.full or self.governor.seconds_per_pixel is None:
            self.governor.observe(frame.pixels, frame.seconds)
        self.canvas.set_overlay(self.overlay_lines(frame))
        self.frame_shown.emit(frame)
        if frame.full and frame.serial == self.worker.mailbox.latest_serial and not self._retry_capped(frame):
            self.full_frame_shown.emit(frame)

    def _retry_capped(self, frame: Frame) -> bool:
        """A rest frame capped on an estimate from earlier frames (the first ones pay torch's warm-up) teaches the
        governor its real cost; when a larger frame now fits the rest budget, ask for it (True)."""
        width, height = self.full_size()
        if self.moving or frame.rgb.shape[1] >= width:
            return False
        self.governor.observe(frame.pixels, frame.seconds)
        if scaled_size(width, height, self.governor.rest_scale(width * height))[0] <= frame.rgb.shape[1]:
            return False
        self._request(full=True)
        return True

    def overlay_lines(self, frame: Frame) -> list[str]:
        h, w = frame.rgb.shape[:2]
        full_w, quality = self.full_size()[0], self._quality(frame)
        ms = f"{frame.seconds * 1000:.0f} ms/frame"
        fps = self.fps.fps
        rate = "moving" if fps is None else f"{fps:.1f} FPS"
        lines = [f"{rate}  {ms}" if self.moving else f"at rest  {ms}",
                 f"{w}x{h} {quality}" + ("" if quality == "full" else f" ({w / full_w:.0%} of {full_w})"),
                 f"{self.device_text}  {frame.label}"]
        if self.camera_ref is not None:
            split, index = self.camera_ref
            lines.append(f"{split} camera {index}")
        if self.camera.limit:
            lines.append(LIMIT_NOTES[self.camera.limit])
        return lines

    def _quality(self, frame: Frame) -> str:
        if frame.full:
            return "full" if self.is_full_size(frame) else "capped (slow model)"
        return "moving" if self.moving else "preview"

    def never_cap_rest_frames(self) -> None:
        """Render every rest frame at full size however long it takes (--screenshot waits for exactly that)."""
        self.governor.max_rest_seconds = math.inf

    def is_full_size(self, frame: Frame) -> bool:
        return frame.full and frame.rgb.shape[1] == self.full_size()[0]

    def save_frame(self, folders: list[Path] | None = None) -> Path | None:
        """Save the newest rendered frame (without the overlay) as a PNG; its path, or None before any frame.
        OSError (one line) when no folder takes it."""
        if self.last_frame is None:
            return None
        return save_view_png(self.last_frame.rgb, folders)

    def request_stop(self) -> None:
        """Ask the render thread to end (it abandons a full frame between chunks); `running` says when it has."""
        self.rest_timer.stop()
        self.worker.mailbox.close()

    @property
    def running(self) -> bool:
        return self.worker.isRunning()
