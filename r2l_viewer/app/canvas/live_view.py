"""The live view's controller: mouse and keys drive the orbit or fly camera; it asks the render thread for the
render mode's passes (colour, depth or error; the split view's teacher side) and shows them with the overlay."""

from __future__ import annotations

import math
from pathlib import Path

from PyQt6.QtCore import QEvent, QObject, Qt, QTimer, pyqtSignal

from r2l_viewer.core.fly import SPEED_PER_RADIUS, FlyCamera
from r2l_viewer.core.orbit import OrbitCamera
from r2l_viewer.core.render import gives_depth
from r2l_viewer.app.canvas.fly_keys import FlyKeys
from r2l_viewer.app.canvas.live_overlay import overlay_lines, student_views
from r2l_viewer.app.canvas.pacing import DynamicResolution, FpsMeter, scaled_size
from r2l_viewer.app.workers.render_worker import Frame, RenderRequest, RenderWorker
from r2l_viewer.app.saving import save_view_png
from r2l_viewer.app.canvas.view_modes import SceneModels, ViewPlan, legend_for, plan_view
from r2l_viewer.app.view_settings import ViewSettings

REST_MS = 150  # no camera change for this long: render full resolution
SPLIT_SHARE = 0.5  # in the split view each side gets this share of a moving frame's time
TEACHER_MIN_SCALE = 0.04  # a pass with the (slow) teacher may shrink this far while moving (16 pixels a side at least)

def scene_models(session, student_depth: bool) -> SceneModels:
    teacher = session.checkpoint.teacher
    teacher_label = (f"teacher ({teacher['kind']})" if teacher else "teacher") if session.teacher is not None else None
    student_label = session.student_label if session.student is not None else None
    return SceneModels(student_label, teacher_label, student_depth)


class LiveView(QObject):
    """Camera (orbit or fly), render mode, split view, dynamic resolution and overlay for one canvas; emits when the
    camera moves and frames arrive."""

    camera_moved = pyqtSignal()
    frame_shown = pyqtSignal(object)  # the main pass' Frame
    full_frame_shown = pyqtSignal(object)  # the current camera's full-resolution main Frame
    full_left_shown = pyqtSignal(object)  # the current camera's full-resolution teacher side of the split view
    view_changed = pyqtSignal()  # the mode, the split view or the navigation changed
    message = pyqtSignal(str)

    def __init__(self, session, canvas, device_text: str, fixed_size: tuple[int, int] | None = None, parent=None,
                 view: dict | None = None):
        super().__init__(parent)
        self.session, self.canvas, self.device_text = session, canvas, device_text
        self.fixed_size = fixed_size
        self.view = ViewSettings.load()  # as the last session left it, with `view`'s values (not saved) over it
        for name, value in (view or {}).items():
            setattr(self.view, name, value)
        self.view.clean()
        self.camera = OrbitCamera.for_scene(session.meta)
        self.fly: FlyCamera | None = None
        self.camera_ref: tuple[str, int] | None = None
        self._camera_index = -1
        self.governors: dict[tuple, DynamicResolution] = {}
        self.max_rest_seconds: float | None = None  # None: the governors' default
        self.fps = FpsMeter()
        self.plan = ViewPlan(None)
        self._depth_probe: tuple = (None, False)  # (student, whether it gives depth)
        self.last_frame: Frame | None = None
        self.left_frame: Frame | None = None
        self.moving = False
        self._full_after_preview = False
        self.worker = RenderWorker()
        self.worker.frame_ready.connect(self._on_frame)
        self.worker.render_failed.connect(self.message)
        self.rest_timer = QTimer(self, singleShot=True, interval=REST_MS, timeout=self._rest)
        self.fly_keys = FlyKeys(canvas)
        self.fly_keys.step.connect(self.fly_step)
        self._connect_canvas(canvas)
        session.opened.connect(self.start_afresh)
        self.sync_model()
        self.worker.start()

    def _connect_canvas(self, canvas) -> None:
        pointer = canvas.pointer
        pointer.orbit.connect(self.orbit)
        pointer.pan.connect(self.pan)
        pointer.zoom.connect(self.zoom)
        canvas.divider_drag.released.connect(self.set_divider)
        canvas.installEventFilter(self)
        canvas.set_surround(self.session.meta.background)

    def start_afresh(self) -> None:
        """Another scene was opened: its own camera and orbit (not flying), the frame cost learnt again."""
        self.camera = OrbitCamera.for_scene(self.session.meta)
        self.camera_ref, self._camera_index = None, -1
        self.governors.clear()
        self.moving = False
        self.left_frame = None
        self.canvas.set_surround(self.session.meta.background)
        if self.fly is not None:
            self.fly = None
            self._navigation_changed()

    # ---- camera input -------------------------------------------------------------------------------------
    def pose(self):
        """The camera-to-world pose shown now (the fly camera's while flying)."""
        return self.fly.c2w() if self.fly is not None else self.camera.c2w()

    def orbit(self, dx: float, dy: float) -> None:
        """Left-drag: orbit, or look around while flying."""
        if self.fly is not None:
            self.fly.look(dx, dy)
        else:
            self.camera.orbit(dx, dy)
        self._moved()

    def pan(self, dx: float, dy: float) -> None:
        width, height = self.full_size()
        shown = max(self.canvas.display_rect().width(), 1)  # focal length in on-screen pixels
        focal = self.intrinsics(width, height).fx * shown / width
        if self.fly is not None:
            self.fly.pan(dx, dy, focal, self.fly.distance_to(self.camera.center))
        else:
            self.camera.pan(dx, dy, focal)
        self._moved()

    def zoom(self, steps: float) -> None:
        """Wheel: zoom, or while flying change the speed."""
        if self.fly is not None:
            self.fly.change_speed(steps)
            self._show_overlay()
            return
        self.camera.zoom(steps)
        self._moved()

    def reset(self) -> None:
        self.camera.reset()
        if self.fly is not None:
            self.fly = FlyCamera.from_pose(self.camera.c2w(), self.session.meta.orbit_up, self.fly.speed)
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
        if self.fly is not None:
            self.fly.pin(pose)
        self.camera_ref = (split, index)
        self._moved()

    def show_pose(self, c2w, focal_scale: float = 1.0) -> None:
        """Show exactly this camera-to-world pose at this zoom (a camera path's frame); orbiting or flying goes on
        from it."""
        self.camera.snap_to(c2w)
        self.camera.focal_scale = focal_scale
        if self.fly is not None:
            self.fly.pin(c2w)
        self.camera_ref, self._camera_index = None, -1
        self._moved()

    def set_fly(self, on: bool) -> None:
        """Fly from the view shown now, or go back to orbiting (from the fly camera's view, exactly)."""
        if on == (self.fly is not None):
            return
        if on:
            speed = SPEED_PER_RADIUS * self.session.meta.orbit_radius
            self.fly = FlyCamera.from_pose(self.camera.c2w(), self.session.meta.orbit_up, speed)
            if self.camera.pinned is not None:
                self.fly.pin(self.camera.pinned)  # a dataset camera stays exact (with its roll)
            self.canvas.setFocus()  # the fly keys go to the canvas
        else:
            zoom = self.camera.focal_scale
            self.camera.snap_to(self.fly.c2w())  # (it takes a dataset camera's focal length: keep the zoom)
            self.camera.focal_scale = zoom
            self.fly = None
        self._navigation_changed()
        self._moved(keep_ref=True)

    def _navigation_changed(self) -> None:
        flying = self.fly is not None
        self.fly_keys.set_enabled(flying)
        self.canvas.set_navigation_cursor(Qt.CursorShape.CrossCursor if flying else Qt.CursorShape.OpenHandCursor)
        self.view_changed.emit()

    def fly_step(self, forward: float, right: float, up: float, seconds: float, fast: bool) -> None:
        if self.fly is not None:
            self.fly.move(forward, right, up, seconds, fast)
            self._moved()

    def _moved(self, keep_ref: bool = False) -> None:
        pinned = self.fly.pinned if self.fly is not None else self.camera.pinned
        if pinned is None and not keep_ref:
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

    # ---- what is shown ------------------------------------------------------------------------------------
    def set_mode(self, mode: str) -> None:
        """Colour, depth or error (remembered for the next session)."""
        self.view.mode = mode
        self._view_settings_changed()

    def set_split(self, on: bool) -> None:
        """The teacher left of the divider, the student right (remembered for the next session)."""
        self.view.split = on
        self._view_settings_changed()

    def set_divider(self, fraction: float) -> None:
        self.view.divider = fraction
        self.view.clean()  # kept inside its limits
        self.canvas.set_divider(self.view.divider)
        self.view.save()

    def _view_settings_changed(self) -> None:
        self.view.clean()
        self.view.save()
        self.left_frame = None
        self.canvas.show_left(None)
        self.view_changed.emit()
        self.refresh()

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

    def governor_for(self, key: tuple) -> DynamicResolution:
        """The frame-time estimate of one kind of pass (the student's colour, the teacher's depth, ...)."""
        if key not in self.governors:
            teacher = key[0] in ("teacher", "both")
            self.governors[key] = DynamicResolution(min_scale=TEACHER_MIN_SCALE) if teacher else DynamicResolution()
            if self.max_rest_seconds is not None:
                self.governors[key].max_rest_seconds = self.max_rest_seconds
        return self.governors[key]

    @property
    def governor(self) -> DynamicResolution:
        """The main pass' estimate."""
        main = self.plan.main
        return self.governor_for(main.key if main is not None else ("student", "rgb"))

    def _student_depth(self) -> bool:
        student = self.session.student
        if student is None:
            return False
        if self._depth_probe[0] is not student:
            self._depth_probe = (student, gives_depth(student))
        return self._depth_probe[1]

    def sync_model(self) -> None:
        """Render with the session's current models from the next frame on, in the current mode, the orbit kept
        to the views a student was trained on."""
        self.camera.within(student_views(self.session))
        self.plan = plan_view(self.view.mode, self.view.split, scene_models(self.session, self._student_depth()))
        self.worker.set_models(self.session.student, self.session.teacher)
        self.canvas.set_split(self.plan.left is not None, self.view.divider)
        self.canvas.legend.set_legend(legend_for(self.plan.main, self.depth_range(), self.session.meta.kind))
        if self.plan.main is None:
            self.canvas.set_message("this checkpoint has no teacher and no student yet: train one in the Train tab")

    def depth_range(self) -> tuple[float, float]:
        """Near and far of the depth colour map: the scene's (in NDC for forward-facing scenes, 0 to 1)."""
        bounds = self.session.meta.model_bounds()
        return float(bounds["near"]), float(bounds["far"])

    def refresh(self, full: bool = True) -> None:
        """Render the current view again (the model or the canvas changed); `full=False` renders at the moving
        resolution, cheap enough to follow a model while it trains."""
        self.sync_model()
        if self.moving:
            return
        passes = [p for p in (self.plan.main, self.plan.left) if p is not None]
        if full and any(self.governor_for(p.key).seconds_per_pixel is None for p in passes):
            self._full_after_preview = True  # a pass not timed yet: a quick preview first, then full size
            full = False
        self._request(full=full)

    def _after_preview(self, frame: Frame) -> None:
        """Once the last pass of a preview is in (every pass timed), ask for the full-size frame."""
        last = frame.role == ("left" if self.plan.left is not None else "main")
        if last and self._full_after_preview and not self.moving:
            self._full_after_preview = False
            self._request(full=True)

    def _size(self, key: tuple, full: bool, share: float, teacher: bool) -> tuple[int, int]:
        width, height = self.full_size()
        governor = self.governor_for(key)
        if teacher and governor.seconds_per_pixel is None:
            scale = governor.min_scale  # an untimed teacher (a NeRF takes seconds a ray on a CPU) starts small
        else:
            scale = governor.rest_scale(width * height) if full else governor.moving_scale(width * height, share)
        return scaled_size(width, height, scale)

    def _request(self, full: bool) -> None:
        plan = self.plan
        if plan.main is None:
            return
        share = SPLIT_SHARE if plan.left is not None else 1.0
        width, height = self._size(plan.main.key, full, share, plan.main.uses_teacher)
        left = None
        if plan.left is not None:
            left_w, left_h = self._size(plan.left.key, full, share, True)
            left = self.intrinsics(left_w, left_h)
        self.worker.request(RenderRequest(self.pose(), self.intrinsics(width, height), full, plan.main, plan.left,
                                          left, self.depth_range()))

    def _on_frame(self, frame: Frame) -> None:
        if frame.role == "left":
            self._on_left_frame(frame)
            return
        self.last_frame = frame
        self._observe(frame)
        self._after_preview(frame)
        self.canvas.show_frame(frame.rgb)
        self.fps.tick()
        self._show_overlay()
        self.frame_shown.emit(frame)
        if frame.full and frame.serial == self.worker.mailbox.latest_serial and not self._retry_capped(frame):
            self.full_frame_shown.emit(frame)

    def _on_left_frame(self, frame: Frame) -> None:
        if self.plan.left is None or frame.key != self.plan.left.key:
            return  # from before the view changed
        self.left_frame = frame
        self._observe(frame)
        self._after_preview(frame)
        self.canvas.show_left(frame.rgb)
        self._show_overlay()
        if frame.full and frame.serial == self.worker.mailbox.latest_serial:
            self.full_left_shown.emit(frame)

    def _observe(self, frame: Frame) -> None:
        governor = self.governor_for(frame.key)
        if not frame.full or governor.seconds_per_pixel is None:
            governor.observe(frame.pixels, frame.seconds)

    def _retry_capped(self, frame: Frame) -> bool:
        """A rest frame capped on an estimate from earlier frames (the first ones pay torch's warm-up) teaches the
        governor its real cost; when a larger frame now fits the rest budget, ask for it (True)."""
        width, height = self.full_size()
        if self.moving or frame.rgb.shape[1] >= width:
            return False
        governor = self.governor_for(frame.key)
        governor.seconds_per_pixel = frame.seconds / max(frame.pixels, 1)  # this rest frame's own cost, unsmoothed
        if scaled_size(width, height, governor.rest_scale(width * height))[0] <= frame.rgb.shape[1]:
            return False
        self._request(full=True)
        return True

    # ---- the overlay --------------------------------------------------------------------------------------
    def _show_overlay(self) -> None:
        if self.last_frame is not None:
            self.canvas.set_overlay(self.overlay_lines(self.last_frame))

    def overlay_lines(self, frame: Frame) -> list[str]:
        return overlay_lines(self, frame)

    def never_cap_rest_frames(self) -> None:
        """Render every rest frame at full size however long it takes (--screenshot waits for exactly that)."""
        self.max_rest_seconds = math.inf
        for governor in self.governors.values():
            governor.max_rest_seconds = math.inf

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
        self.fly_keys.release_all()
        self.worker.mailbox.close()

    @property
    def running(self) -> bool:
        return self.worker.isRunning()
