"""The render thread: renders the newest requested view with the current model; older requests are dropped."""

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
from r2l_viewer.core.fast_student import fast_path
from r2l_viewer.core.models import Student
from r2l_viewer.core.precision import resolve_precision, to_host
from r2l_viewer.core.rays import camera_rays
from r2l_viewer.core.render import model_device, render_rays

from .mailbox import LatestMailbox

CPU_CHUNK = 4096  # rays per model call on a CPU: small enough that activations stay in cache
CUDA_CHUNK = 1 << 18


@dataclass
class RenderRequest:
    """One view to render; a `full` frame (camera at rest) is abandoned when a moving-camera request arrives."""

    c2w: torch.Tensor
    intrinsics: Intrinsics
    full: bool = False


@dataclass
class Frame:
    """A rendered view: rgb uint8 [H, W, 3], seconds it took, the request it answers and the model's label."""

    rgb: np.ndarray
    seconds: float
    full: bool
    serial: int
    label: str

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


def render_interruptible(renderer: RayRenderer, c2w: torch.Tensor, intrinsics: Intrinsics, abandon=None,
                         chunk: int | None = None):
    """rgb [H, W, 3] (on the CPU) of one view, rendered chunk by chunk; None when `abandon()` turns true between
    chunks. From a GPU the image comes back through page-locked memory."""
    chunk = chunk or renderer.chunk
    origins, directions = camera_rays(c2w.to(renderer.device), intrinsics)
    origins, directions = origins.reshape(-1, 3), directions.reshape(-1, 3)
    call = lambda start: renderer(origins[start : start + chunk], directions[start : start + chunk])  # noqa: E731
    parts = map_chunks(call, range(0, origins.shape[0], chunk), abandon, renderer.team)
    if parts is None:
        return None
    return to_host(torch.cat(parts).reshape(intrinsics.height, intrinsics.width, 3))


class RenderWorker(QThread):
    """Renders requests from a `LatestMailbox` with whatever model is current when a request starts."""

    frame_ready = pyqtSignal(object)  # Frame
    render_failed = pyqtSignal(str)

    def __init__(self, name: str = "render", parent=None):
        super().__init__(parent)
        self.setObjectName(name)
        self.mailbox = LatestMailbox()
        self._lock = threading.Lock()
        self._renderer, self._label = None, ""

    def set_model(self, model, label: str) -> None:
        """Swap the model; a render in progress finishes with the old one (each frame uses one model)."""
        renderer = None if model is None else RayRenderer(model)
        with self._lock:
            self._renderer, self._label = renderer, label

    def request(self, request: RenderRequest) -> int:
        return self.mailbox.put(request)

    def stop(self) -> None:
        self.mailbox.close()
        self.wait(10_000)

    def run(self) -> None:
        while (item := self.mailbox.take()) is not None:
            serial, request = item
            with self._lock:
                renderer, label = self._renderer, self._label
            if renderer is None:
                continue
            try:
                frame = self._render(renderer, label, serial, request)
            except Exception as exc:  # a broken model must not take the viewer down
                traceback.print_exc()
                self.render_failed.emit(f"render failed: {exc}")
                continue
            if frame is not None:
                self.frame_ready.emit(frame)

    def _camera_moved_since(self) -> bool:
        """A full frame is dropped for a moving-camera frame (or shutdown), not for another full frame (a model
        update at rest), so frames that take longer than the updates come still show."""
        waiting = self.mailbox.pending()
        return self.mailbox.closed or (waiting is not None and not waiting.full)

    def _render(self, renderer: RayRenderer, label: str, serial: int, request: RenderRequest) -> Frame | None:
        start = time.perf_counter()
        abandon = self._camera_moved_since if request.full else None
        rgb = render_interruptible(renderer, request.c2w, request.intrinsics, abandon)
        if rgb is None:
            return None
        image = to_uint8(rgb)
        return Frame(image, time.perf_counter() - start, request.full, serial, label)
