"""What jobs yield: progress events (step, loss, PSNR, rates, ETA, previews), and a meter for rates and ETA."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

PROGRESS, VALIDATION, SAVED, LOG, DONE, STOPPED = "progress", "validation", "saved", "log", "done", "stopped"
PREVIEW_SIDE = 128  # previews are at most this many pixels on their long side


@dataclass
class Event:
    """One report from a running job. `kind` is progress, validation, saved, log, done or stopped."""

    stage: str
    kind: str = PROGRESS
    step: int = 0
    total: int = 0
    loss: float | None = None
    psnr: float | None = None
    lr: float | None = None
    rays_per_s: float | None = None
    eta_s: float | None = None
    preview: np.ndarray | None = None
    metrics: dict = field(default_factory=dict)
    message: str = ""

    @property
    def fraction(self) -> float:
        return self.step / self.total if self.total else 0.0

    def to_record(self) -> dict:
        """The event as a JSON-ready dict (no preview image)."""
        record = {"stage": self.stage, "kind": self.kind, "step": self.step, "total": self.total}
        for name in ("loss", "psnr", "lr", "rays_per_s", "eta_s"):
            value = getattr(self, name)
            if value is not None:
                record[name] = round(float(value), 6)
        if self.metrics:
            record["metrics"] = self.metrics
        if self.message:
            record["message"] = self.message
        return record


class RateMeter:
    """Smoothed items per second and time left, from (step, items) updates."""

    def __init__(self, smoothing: float = 0.9):
        self.smoothing = smoothing
        self.rate: float | None = None
        self.step_time: float | None = None
        self._last = time.perf_counter()

    def update(self, items: int, steps: int = 1) -> None:
        now = time.perf_counter()
        elapsed = max(now - self._last, 1e-9)
        self._last = now
        rate, per_step = items / elapsed, elapsed / max(steps, 1)
        a = self.smoothing
        self.rate = rate if self.rate is None else a * self.rate + (1 - a) * rate
        self.step_time = per_step if self.step_time is None else a * self.step_time + (1 - a) * per_step

    def restart(self) -> None:
        """Forget the time spent outside the measured work (validation, saving)."""
        self._last = time.perf_counter()

    def eta(self, steps_left: int) -> float | None:
        return None if self.step_time is None else steps_left * self.step_time


def to_preview(image) -> np.ndarray:
    """An H x W x 3 float image in [0, 1] (tensor or array) as uint8 for display."""
    array = image.detach().cpu().numpy() if hasattr(image, "detach") else np.asarray(image)
    return (np.clip(array, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def small_preview(image, side: int = PREVIEW_SIDE) -> np.ndarray:
    """An H x W x 3 float image in [0, 1] as a uint8 preview at most `side` pixels on its long side (area-averaged)."""
    tensor = image.detach().float().cpu() if hasattr(image, "detach") else torch.as_tensor(np.asarray(image), dtype=torch.float32)
    h, w = tensor.shape[:2]
    scale = side / max(h, w)
    if scale < 1.0:
        size = (max(1, round(h * scale)), max(1, round(w * scale)))
        tensor = F.interpolate(tensor.permute(2, 0, 1)[None], size=size, mode="area")[0].permute(1, 2, 0)
    return to_preview(tensor)
