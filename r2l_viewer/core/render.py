"""Chunked rendering of rays and whole images with any model (teacher or student), CPU or CUDA, bounded memory."""

from __future__ import annotations

import threading
from typing import Callable, Union

import torch

from .cameras import Intrinsics
from .models.base import RenderOutput, pixel_offset
from .precision import autocast, to_host
from .rays import camera_rays

DEFAULT_CHUNK = 8192  # rays per model call at most
POINTS_PER_CHUNK = 1 << 19  # and at most this many samples: a NeRF (192 per ray) renders 2,730 rays per call

StopFlag = Union[threading.Event, Callable[[], bool], None]  # a set Event or a True return means stop


class RenderInterrupted(Exception):
    """A render stopped between two chunks because its stop flag was set."""


def model_device(model: torch.nn.Module) -> torch.device:
    """The device a model's weights live on."""
    return next(model.parameters()).device


def samples_per_ray(model: torch.nn.Module) -> int:
    """Points a model evaluates per ray (its `samples_per_ray` attribute; 1 for a light field)."""
    return max(1, int(getattr(model, "samples_per_ray", 1)))


def chunk_rays(model: torch.nn.Module, chunk: int = DEFAULT_CHUNK) -> int:
    """Rays per call: at most `chunk`, and at most POINTS_PER_CHUNK samples, so memory is bounded for every model."""
    return max(1, min(int(chunk), POINTS_PER_CHUNK // samples_per_ray(model)))


def stop_requested(stop: StopFlag) -> bool:
    """Whether a stop flag (a threading.Event, a callable or None) is set."""
    if stop is None:
        return False
    return stop.is_set() if hasattr(stop, "is_set") else bool(stop())


@torch.inference_mode()
def render_rays(
    model: torch.nn.Module,
    origins: torch.Tensor,
    directions: torch.Tensor,
    chunk: int = DEFAULT_CHUNK,
    out_device: torch.device | str | None = "cpu",
    precision: str = "fp32",
    stop: StopFlag = None,
) -> RenderOutput:
    """Render rays [N, 3] in chunks (see `chunk_rays`) on the model's device, matrix products in `precision`
    (fp32, bf16, fp16 or auto); outputs gathered on the model's device, then moved to `out_device` (None: leave
    them there). Peak memory is that of one chunk plus the outputs, whatever N is. When `stop` is set between
    two chunks, RenderInterrupted is raised."""
    device = model_device(model)
    chunk = chunk_rays(model, chunk)
    parts: dict[str, list[torch.Tensor]] = {"rgb": [], "depth": [], "opacity": []}
    with autocast(device, precision):
        for start in range(0, origins.shape[0], chunk):
            if stop_requested(stop):
                raise RenderInterrupted("render stopped")
            o = origins[start : start + chunk].to(device, non_blocking=True)
            d = directions[start : start + chunk].to(device, non_blocking=True)
            out = model(o, d)
            for name in parts:
                value = getattr(out, name)
                if value is not None:
                    parts[name].append(value.float())
    joined = {k: torch.cat(v) if v else None for k, v in parts.items()}
    if joined["rgb"] is None:
        joined["rgb"] = torch.zeros(0, 3, device=device)
    return RenderOutput(**{k: None if v is None else _move(v, out_device) for k, v in joined.items()})


def _move(tensor: torch.Tensor, out_device) -> torch.Tensor:
    if out_device is None or torch.device(out_device) == tensor.device:
        return tensor
    return to_host(tensor) if torch.device(out_device).type == "cpu" else tensor.to(out_device)


def render_image(
    model: torch.nn.Module,
    c2w: torch.Tensor,
    intrinsics: Intrinsics,
    chunk: int = DEFAULT_CHUNK,
    out_device: torch.device | str | None = "cpu",
    precision: str = "fp32",
    stop: StopFlag = None,
) -> RenderOutput:
    """Render one view: rgb [H, W, 3] (and depth, opacity [H, W] where the model has them), each pixel's ray
    where in the pixel the model puts it (see `pixel_offset`); `stop` as in `render_rays`."""
    device = model_device(model)
    origins, directions = camera_rays(c2w.to(device), intrinsics, pixel_offset(model))
    h, w = intrinsics.height, intrinsics.width
    out = render_rays(model, origins.reshape(-1, 3), directions.reshape(-1, 3), chunk, out_device, precision, stop)
    return RenderOutput(
        rgb=out.rgb.reshape(h, w, 3),
        depth=None if out.depth is None else out.depth.reshape(h, w),
        opacity=None if out.opacity is None else out.opacity.reshape(h, w),
    )


@torch.inference_mode()
def gives_depth(model: torch.nn.Module) -> bool:
    """Whether a model returns a depth for its rays (teachers do; a student only when trained to): one ray tried."""
    device = model_device(model)
    origin = torch.zeros(1, 3, device=device)
    direction = torch.tensor([[0.0, 0.0, -1.0]], device=device)
    return model(origin, direction).depth is not None
