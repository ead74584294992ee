"""The render thread: renders the newest requested view (its passes: colour, depth or error, and the split view's
teacher side) with the current models; older requests are dropped."""

from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass

import numpy as np
import torch
from PyQt6.QtCore import QThread, pyqtSignal

from r2l_viewer.core.cameras import Intrinsics
from r2l_viewer.core.chunk_team import TEAM_CHUNK, map_chunks, shared_cpu_team
from r2l_viewer.core.colormap import depth_image, error_image
from r2l_viewer.core.fast_student import fast_path
from r2l_viewer.core.finite import NonFiniteError, check_finite_image
from r2l_viewer.core.models import Student
from r2l_viewer.core.models.base import pixel_offset
from r2l_viewer.core.precision import resolve_precision, to_host
from r2l_viewer.core.rays import camera_rays
from r2l_viewer.core.render import model_device, render_rays

from r2l_viewer.app.workers.mailbox import LatestMailbox
from r2l_viewer.app.canvas.view_modes import Pass

CPU_CHUNK = 4096  # rays per model call on a CPU: small enough that activations stay in cache
CUDA_CHUNK = 1 << 18
TEACHER_CHUNK_SECONDS = 0.05  # a teacher's rays per call are cut to about this long, so a pass can be dropped soon
MIN_TEACHER_CHUNK = 256  # fewer rays a call cost a teacher more per ray
TEACHER_GRACE_S = 0.2  # a moving-camera pass with the (slow) teacher is dropped for a newer camera after this long


@dataclass
class RenderRequest:
    """One view to render: the `main` pass at `intrinsics`, then the split view's `left` pass (the teacher) at
    `left_intrinsics`. A `full` frame (camera at rest) is abandoned when a moving-camera request arrives; depths
    are colour-mapped over `depth_range` (near, far)."""

    c2w: torch.Tensor
    intrinsics: Intrinsics
    full: bool = False
    main: Pass = Pass("student", "rgb", "student")
    left: Pass | None = None
    left_intrinsics: Intrinsics | None = None
    depth_range: tuple[float, float] = (2.0, 6.0)

    def passes(self) -> list[tuple[str, Pass, Intrinsics]]:
        """(role, pass, intrinsics) in the order they render: main first, so the student never waits for the teacher."""
        left = [] if self.left is None else [("left", self.left, self.left_intrinsics or self.intrinsics)]
        return [("main", self.main, self.intrinsics)] + left


@dataclass
class Frame:
    """A rendered pass: rgb uint8 [H, W, 3] (a colour-mapped image for depth and error), seconds it took, the
    request it answers, its label, `role` main or left (the split view's teacher side) and the pass' `key`."""

    rgb: np.ndarray
    seconds: float
    full: bool
    serial: int
    label: str
    role: str = "main"
    key: tuple = ("student", "rgb")
    c2w: torch.Tensor | None = None  # the camera it shows

    @property
    def pixels(self) -> int:
        return self.rgb.shape[0] * self.rgb.shape[1]


def to_uint8(rgb: torch.Tensor) -> np.ndarray:
    """A float image in [0, 1] as a contiguous uint8 array."""
    return np.ascontiguousarray((rgb.clamp(0, 1) * 255.0 + 0.5).to(torch.uint8).cpu().numpy())


class RayRenderer:
    """How one model turns rays into colours for the viewer. A student renders in `precision` (auto: bf16 on CUDA,
    fp32 on a CPU); in fp32 on a CPU it takes the fused path (r2l_viewer/core/fast_student.py) spread over a team
    of single-threaded workers (r2l_viewer/core/chunk_team.py). Teachers render in fp32."""

    def __init__(self, model, precision: str = "auto"):
        self.model = model
        self.device = model_device(model)
        self.precision = resolve_precision(precision, self.device) if isinstance(model, Student) else "fp32"
        self.chunk = CUDA_CHUNK if self.device.type == "cuda" else CPU_CHUNK
        cpu_fp32 = self.device.type == "cpu" and self.precision == "fp32"
        self.fast = fast_path(model) if cpu_fp32 else None
        self.team = shared_cpu_team() if self.fast is not None else None
        if self.team is not None:
            self.chunk = TEAM_CHUNK

    def __call__(self, origins: torch.Tensor, directions: torch.Tensor) -> torch.Tensor:
        if self.fast is not None:
            return self.fast(origins, directions)
        return render_rays(self.model, origins, directions, self.chunk, out_device=None, precision=self.precision).rgb

    def depth(self, origins: torch.Tensor, directions: torch.Tensor) -> torch.Tensor:
        """Depths [N] of rays (through the model's own forward: the fused student path gives colour only)."""
        out = render_rays(self.model, origins, directions, origins.shape[0], out_device=None, precision=self.precision)
        if out.depth is None:
            raise ValueError(f"{type(self.model).__name__} gives no depth for its rays")
        return out.depth


def render_interruptible(renderer: RayRenderer, c2w: torch.Tensor, intrinsics: Intrinsics, abandon=None,
                         chunk: int | None = None, output: str = "rgb"):
    """rgb [H, W, 3] (or with `output="depth"`, depth [H, W]) of one view on the CPU, rendered chunk by chunk;
    None when `abandon()` turns true between chunks. From a GPU the image comes back through page-locked memory."""
    chunk = chunk or renderer.chunk
    origins, directions = camera_rays(c2w.to(renderer.device), intrinsics, pixel_offset(renderer.model))
    origins, directions = origins.reshape(-1, 3), directions.reshape(-1, 3)
    rays_to = renderer if output == "rgb" else renderer.depth
    call = lambda start: rays_to(origins[start : start + chunk], directions[start : start + chunk])  # noqa: E731
    parts = map_chunks(call, range(0, origins.shape[0], chunk), abandon, renderer.team)
    if parts is None:
        return None
    shape = (intrinsics.height, intrinsics.width) + ((3,) if output == "rgb" else ())
    return to_host(torch.cat(parts).reshape(shape))


class RenderWorker(QThread):
    """Renders requests from a `LatestMailbox` with whatever models are current when a request starts."""

    frame_ready = pyqtSignal(object)  # Frame, one per pass
    render_failed = pyqtSignal(str)

    def __init__(self, name: str = "render", parent=None):
        super().__init__(parent)
        self.setObjectName(name)
        self.mailbox = LatestMailbox()
        self._lock = threading.Lock()
        self._renderers: dict[str, RayRenderer] = {}
        self.teacher_seconds_per_ray: float | None = None  # from this thread's own teacher renders

    def set_models(self, student, teacher) -> None:
        """Swap the models; a render in progress finishes with the old ones (each frame uses one set)."""
        with self._lock:
            old = dict(self._renderers)
        renderers = {}
        for role, model in (("student", student), ("teacher", teacher)):
            if model is not None:
                same = old.get(role) is not None and old[role].model is model
                renderers[role] = old[role] if same else RayRenderer(model)
        with self._lock:
            self._renderers = renderers
        if renderers.get("teacher") is not old.get("teacher"):
            self.teacher_seconds_per_ray = None

    def request(self, request: RenderRequest) -> int:
        return self.mailbox.put(request)

    def stop(self) -> None:
        self.mailbox.close()
        self.wait(10_000)

    def run(self) -> None:
        while (item := self.mailbox.take()) is not None:
            serial, request = item
            with self._lock:
                renderers = self._renderers
            try:
                for role, view_pass, intrinsics in request.passes():
                    frame = self._render(renderers, view_pass, intrinsics, serial, request, role)
                    if frame is None:
                        break
                    self.frame_ready.emit(frame)
            except NonFiniteError as exc:  # damaged weights: said in one line, and no frame of garbage is shown
                self.render_failed.emit(str(exc))
            except Exception as exc:  # a broken model must not take the viewer down
                traceback.print_exc()
                self.render_failed.emit(f"render failed: {exc}")

    def _camera_moved_since(self) -> bool:
        """A full frame is dropped for a moving-camera frame (or shutdown), not for another full frame (a model
        update at rest), so frames that take longer than the updates come still show."""
        waiting = self.mailbox.pending()
        return self.mailbox.closed or (waiting is not None and not waiting.full)

    def _abandon(self, request: RenderRequest, view_pass: Pass, serial: int, start: float):
        """When to drop a pass: a full one when the camera moves; a moving one with the teacher once a newer
        camera waits and it has had its grace; a moving student-only one never (it is the one kept fast)."""
        if request.full:
            return self._camera_moved_since
        if view_pass.uses_teacher:
            return lambda: self.mailbox.closed or (
                self.mailbox.newer_than(serial) and time.perf_counter() - start > TEACHER_GRACE_S)
        return None

    def _teacher_chunk(self, renderer: RayRenderer) -> int:
        if self.teacher_seconds_per_ray is None:
            return min(renderer.chunk, 1024)
        rays = int(TEACHER_CHUNK_SECONDS / self.teacher_seconds_per_ray)
        return min(renderer.chunk, max(MIN_TEACHER_CHUNK, rays))

    def _draw(self, renderers, role: str, output: str, c2w, intrinsics: Intrinsics, abandon):
        """One model's rgb or depth image (float, on the CPU), timing the teacher's rays; None when dropped."""
        renderer = renderers[role]
        start = time.perf_counter()
        chunk = self._teacher_chunk(renderer) if role == "teacher" else None
        image = render_interruptible(renderer, c2w, intrinsics, abandon, chunk, output)
        if image is not None:
            check_finite_image(image, f"the {role}'s {output} view")
        if image is not None and role == "teacher":
            self.teacher_seconds_per_ray = (time.perf_counter() - start) / (intrinsics.width * intrinsics.height)
        return image

    def _render(self, renderers, view_pass: Pass, intrinsics: Intrinsics, serial: int, request: RenderRequest,
                role: str) -> Frame | None:
        needed = ("student", "teacher") if view_pass.source == "both" else (view_pass.source,)
        if any(name not in renderers for name in needed):
            return None  # the models changed since the request was planned: the next request has the new plan
        start = time.perf_counter()
        abandon = self._abandon(request, view_pass, serial, start)
        if view_pass.output == "error":
            student = self._draw(renderers, "student", "rgb", request.c2w, intrinsics, abandon)
            teacher = None if student is None else self._draw(renderers, "teacher", "rgb", request.c2w,
                                                              intrinsics, abandon)
            image = None if teacher is None else error_image(teacher, student)
        else:
            image = self._draw(renderers, view_pass.source, view_pass.output, request.c2w, intrinsics, abandon)
            if image is not None and view_pass.output == "depth":
                image = depth_image(image, *request.depth_range)
        if image is None:
            return None
        return Frame(to_uint8(image), time.perf_counter() - start, request.full, serial, view_pass.label, role,
                     view_pass.key, request.c2w)
