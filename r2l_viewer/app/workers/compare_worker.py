"""The compare thread: teacher and student for one camera at the scene's resolution, and the metrics between them."""

from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass, field

import numpy as np
import torch
from PyQt6.QtCore import QThread, pyqtSignal

from r2l_viewer.core.cameras import Intrinsics
from r2l_viewer.core.colormap import error_image
from r2l_viewer.core.finite import NonFiniteError, check_finite_image
from r2l_viewer.core.metrics import psnr, ssim

from r2l_viewer.app.workers.mailbox import LatestMailbox
from r2l_viewer.app.workers.reference_images import ReferenceImages
from r2l_viewer.app.workers.render_worker import RayRenderer, render_interruptible, to_uint8

MAX_COMPARE_SIDE = 256  # compare at the scene's own resolution, at most this many pixels on a side
COARSE_SECONDS = 0.25  # a coarse teacher render, shown first, should take about this long
COARSE_SCALES = (1 / 8, 1 / 2)  # its side as a share of the full one
FULL_TEACHER_SECONDS = 1.0  # a full teacher render expected to take less needs no coarse one first


def compare_intrinsics(native: Intrinsics) -> Intrinsics:
    longest = max(native.height, native.width)
    return native if longest <= MAX_COMPARE_SIDE else native.scaled(MAX_COMPARE_SIDE / longest)


def coarse_intrinsics(full: Intrinsics, seconds_per_pixel: float | None) -> Intrinsics:
    """A size at which the teacher renders in about COARSE_SECONDS (a quarter of the side before it was timed)."""
    pixels = full.width * full.height
    share = 0.25 if seconds_per_pixel is None else (COARSE_SECONDS / (seconds_per_pixel * pixels)) ** 0.5
    share = min(max(share, COARSE_SCALES[0]), COARSE_SCALES[1])
    return full.resized(max(4, round(full.height * share)), max(4, round(full.width * share)))


@dataclass
class CompareRequest:
    c2w: torch.Tensor
    intrinsics: Intrinsics
    camera_ref: tuple[str, int] | None = None  # (split, index) when on a dataset camera


@dataclass
class CompareResult:
    """Both renders (uint8; None where the model is missing), timings, metrics and the error heat-map."""

    serial: int
    teacher: np.ndarray | None = None
    student: np.ndarray | None = None
    error: np.ndarray | None = None
    teacher_s: float | None = None
    student_s: float | None = None
    psnr: float | None = None
    ssim: float | None = None
    real_psnr: dict = field(default_factory=dict)  # {"teacher": dB, "student": dB}
    real_note: str = ""


class CompareWorker(QThread):
    """Renders the newest compare request; the (slow) teacher render is abandoned when the camera moves again."""

    compared = pyqtSignal(object)  # CompareResult
    coarse_teacher = pyqtSignal(object)  # CompareResult with only a coarse teacher render, before the full one
    compare_failed = pyqtSignal(str)

    def __init__(self, meta, parent=None):
        super().__init__(parent)
        self.setObjectName("compare")
        self.mailbox = LatestMailbox()
        self.references = ReferenceImages(meta)
        self._lock = threading.Lock()
        self._teacher = self._student = None
        self._cancelled = 0  # requests up to this serial are no longer wanted
        self.teacher_seconds_per_pixel: float | None = None  # from the last full teacher render

    def set_models(self, teacher, student) -> None:
        renderers = [None if m is None else RayRenderer(m) for m in (teacher, student)]
        with self._lock:
            self._teacher, self._student = renderers

    def set_meta(self, meta) -> None:
        self.references = ReferenceImages(meta)

    def request(self, request: CompareRequest) -> int:
        return self.mailbox.put(request)

    def cancel(self) -> None:
        """The camera moved: abandon the request in hand and any waiting one (the next full frame asks again)."""
        self._cancelled = self.mailbox.latest_serial

    def _stale(self, serial: int) -> bool:
        return serial <= self._cancelled or self.mailbox.newer_than(serial)

    def is_current(self, result: CompareResult) -> bool:
        """Whether a result is for the camera shown now (it may arrive after the camera moved on)."""
        return not self._stale(result.serial)

    def request_stop(self) -> None:
        """Ask the thread to end: a render in hand is abandoned at its next chunk; `isRunning()` says when it has."""
        self.mailbox.close()

    def run(self) -> None:
        while (item := self.mailbox.take()) is not None:
            serial, request = item
            with self._lock:
                teacher, student = self._teacher, self._student
            try:
                result = self._compare(serial, request, teacher, student)
            except NonFiniteError as exc:  # damaged weights: one line, and no PSNR of nan shown
                self.compare_failed.emit(str(exc))
                continue
            except Exception as exc:
                traceback.print_exc()
                self.compare_failed.emit(f"compare failed: {exc}")
                continue
            if result is not None:
                self.compared.emit(result)

    def _render(self, renderer, request, serial):
        start = time.perf_counter()
        rgb = render_interruptible(renderer, request.c2w, request.intrinsics, lambda: self._stale(serial))
        return rgb, time.perf_counter() - start

    def _coarse_teacher(self, serial, request, teacher) -> bool:
        """Render and send a coarse teacher first when the full one takes over a second; False when it went stale."""
        pixels = request.intrinsics.width * request.intrinsics.height
        if teacher is None or (self.teacher_seconds_per_pixel or 1.0) * pixels < FULL_TEACHER_SECONDS:
            return True
        coarse = coarse_intrinsics(request.intrinsics, self.teacher_seconds_per_pixel)
        rgb, _ = self._render(teacher, CompareRequest(request.c2w, coarse), serial)
        if rgb is None:
            return False
        self.coarse_teacher.emit(CompareResult(serial, teacher=to_uint8(rgb)))
        return True

    def _compare(self, serial, request, teacher, student) -> CompareResult | None:
        result = CompareResult(serial)
        renders = {}
        if not self._coarse_teacher(serial, request, teacher):
            return None
        for name, renderer in (("student", student), ("teacher", teacher)):
            if renderer is None:
                continue
            rgb, seconds = self._render(renderer, request, serial)
            if rgb is None:
                return None
            check_finite_image(rgb, f"the {name}'s view")
            renders[name] = rgb
            setattr(result, name, to_uint8(rgb))
            setattr(result, f"{name}_s", seconds)
            if name == "teacher":
                self.teacher_seconds_per_pixel = seconds / (request.intrinsics.width * request.intrinsics.height)
        if len(renders) == 2:
            a, b = renders["teacher"], renders["student"]
            result.psnr = psnr(b, a)
            result.ssim = ssim(b, a) if min(a.shape[:2]) >= 11 else None
            result.error = to_uint8(error_image(a, b))
        self._real_image_scores(result, request, renders)
        return None if self._stale(serial) else result

    def _real_image_scores(self, result: CompareResult, request: CompareRequest, renders: dict) -> None:
        if request.camera_ref is None:
            result.real_note = "not on a dataset camera (press [ or ])"
            return
        split, index = request.camera_ref
        size = (request.intrinsics.height, request.intrinsics.width)
        real, note = self.references.image(split, index, request.c2w, size)
        if real is None:
            result.real_note = note
            return
        result.real_psnr = {name: psnr(rgb, real) for name, rgb in renders.items()}
        result.real_note = f"{split} camera {index}"
