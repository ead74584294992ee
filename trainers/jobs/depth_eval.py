"""A student's depth against its teacher's, for r2l-eval: error figures, and depth maps written as PNGs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from r2l_viewer.core.colormap import heat
from r2l_viewer.core.image_files import write_png

from trainers.events import to_preview

WITHIN = 0.01  # a pixel's depth is "within" when it is off by at most this share of near..far
ERROR_SCALE = 0.05  # the depth error map is brightest at this share of near..far


def depth_units(ndc, contraction=None) -> str:
    """What a depth is measured in: the ray parameter t, which is distance along the view axis in world scenes;
    in unbounded scenes the length of the ray's contracted path."""
    if contraction is not None:
        return "scene units along the contracted ray (true distance near the cameras, squashed beyond)"
    return "NDC t (0 to 1)" if ndc else "scene units"


def depth_comparison(student: list[torch.Tensor], teacher: list[torch.Tensor], near: float, far: float,
                     ndc=None, contraction=None) -> dict:
    """Mean absolute error of the student's depth maps against the teacher's (same views), in the depth's units,
    and the share of pixels within WITHIN of the range near..far; the same two on the pixels where the teacher
    sees something (its depth short of far by more than WITHIN of the range), since empty background, which both
    put at far, can be most of a view."""
    errors = torch.cat([(s.float() - t.float()).abs().reshape(-1) for s, t in zip(student, teacher)])
    seen = torch.cat([t.reshape(-1) < far - WITHIN * (far - near) for t in teacher])
    within = errors <= WITHIN * (far - near)
    return {"mae": float(errors.mean()), "within_1pct": float(within.float().mean()),
            "seen_share": float(seen.float().mean()), "seen_mae": _mean(errors[seen]),
            "seen_within_1pct": _mean(within[seen].float()),
            "near": near, "far": far, "units": depth_units(ndc, contraction), "pixels": int(errors.numel())}


def _mean(values: torch.Tensor) -> float | None:
    return float(values.mean()) if values.numel() else None


def depth_fraction(depth: torch.Tensor, near: float, far: float) -> torch.Tensor:
    """Depth as a share of near..far, clamped to [0, 1]."""
    return ((depth.float() - near) / (far - near)).clamp(0.0, 1.0)


def depth_png16(depth: torch.Tensor, near: float, far: float) -> np.ndarray:
    """A depth map [H, W] as 16-bit grey: 0 is near, 65535 is far (depth = near + value / 65535 * (far - near))."""
    return (depth_fraction(depth, near, far).cpu().numpy() * 65535.0 + 0.5).astype(np.uint16)


def depth_colours(depth: torch.Tensor, near: float, far: float) -> torch.Tensor:
    """A depth map [H, W] in colour [H, W, 3] for looking at: near bright, far (empty space) black."""
    return heat(1.0 - depth_fraction(depth, near, far), vmax=1.0)


def save_depth_maps(folder: Path, name: str, depths: dict, near: float, far: float) -> None:
    """Per model with depth, `<name>_<role>_depth.png` (colour) and `<name>_<role>_depth16.png` (16-bit, see
    depth_png16); with both, `<name>_depth_error.png`: |student - teacher|, brightest at 5% of near..far."""
    for role, depth in depths.items():
        write_png(folder / f"{name}_{role}_depth.png", to_preview(depth_colours(depth, near, far)))
        write_png(folder / f"{name}_{role}_depth16.png", depth_png16(depth, near, far))
    if len(depths) == 2:
        error = (depths["student"].float() - depths["teacher"].float()).abs()
        write_png(folder / f"{name}_depth_error.png", to_preview(heat(error, vmax=ERROR_SCALE * (far - near))))
