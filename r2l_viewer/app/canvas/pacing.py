"""Frame pacing without Qt: the dynamic-resolution governor, an FPS meter and rolling medians of latencies."""

from __future__ import annotations

import math
import statistics
import time
from collections import deque


class DynamicResolution:
    """Picks the render scale while the camera moves so a frame takes about 1 / target_fps seconds.

    It learns seconds per pixel from the frames it is told about (a moving average) and renders full size at rest."""

    def __init__(self, target_fps: float = 10.0, min_scale: float = 0.1, smoothing: float = 0.6,
                 max_rest_seconds: float = 3.0):
        self.target_fps = target_fps
        self.max_rest_seconds = max_rest_seconds
        self.min_scale = min_scale
        self.smoothing = smoothing
        self.seconds_per_pixel: float | None = None

    def observe(self, pixels: int, seconds: float) -> None:
        """Record how long a frame of `pixels` pixels took."""
        if pixels <= 0 or seconds <= 0:
            return
        rate = seconds / pixels
        a = self.smoothing
        self.seconds_per_pixel = rate if self.seconds_per_pixel is None else a * self.seconds_per_pixel + (1 - a) * rate

    def _fit(self, full_pixels: int, seconds: float, unknown: float) -> float:
        if self.seconds_per_pixel is None:
            return unknown
        scale = math.sqrt(seconds / max(self.seconds_per_pixel * full_pixels, 1e-12))
        return min(1.0, max(self.min_scale, scale))

    def moving_scale(self, full_pixels: int, share: float = 1.0) -> float:
        """The side-length factor (min_scale..1) for frames rendered while the camera moves, taking `share` of the
        frame time (the split view renders two images a frame)."""
        return self._fit(full_pixels, share / self.target_fps, 0.5)

    def rest_scale(self, full_pixels: int) -> float:
        """1 (full resolution) at rest, unless a frame would take over max_rest_seconds (a big model on a CPU)."""
        return self._fit(full_pixels, self.max_rest_seconds, 1.0)


def scaled_size(width: int, height: int, scale: float, minimum: int = 16) -> tuple[int, int]:
    """(width, height) multiplied by `scale`, keeping the aspect, at least `minimum` pixels on the short side."""
    short = min(width, height)
    scale = max(scale, min(1.0, minimum / max(short, 1)))
    return max(1, round(width * scale)), max(1, round(height * scale))


class FpsMeter:
    """Frames per second over the last `window` seconds of frame arrivals."""

    def __init__(self, window: float = 1.0, clock=time.perf_counter):
        self.window = window
        self.clock = clock
        self.stamps: deque[float] = deque()

    def tick(self) -> None:
        self.stamps.append(self.clock())
        self._trim()

    def _trim(self) -> None:
        now = self.clock()
        while self.stamps and now - self.stamps[0] > self.window:
            self.stamps.popleft()

    @property
    def fps(self) -> float | None:
        """None until two frames arrived within the window (a single frame after a jump has no rate)."""
        self._trim()
        span = self.stamps[-1] - self.stamps[0] if len(self.stamps) >= 2 else 0.0
        return (len(self.stamps) - 1) / span if span > 0 else None


class RollingMedian:
    """Median of the last `size` values (per-frame latencies)."""

    def __init__(self, size: int = 15):
        self.values: deque[float] = deque(maxlen=size)

    def add(self, value: float) -> None:
        self.values.append(value)

    def clear(self) -> None:
        self.values.clear()

    @property
    def median(self) -> float | None:
        return statistics.median(self.values) if self.values else None
