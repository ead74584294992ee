"""Space carving: points that project onto the background of any masked training view are empty."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .cameras import Intrinsics
from .lens import distort, has_distortion


def project(points: torch.Tensor, c2w: torch.Tensor, intrinsics: Intrinsics) -> tuple[torch.Tensor, torch.Tensor]:
    """Pixel coordinates (x, y) [M, 2] of world points [M, 3] in a camera (through its lens model), and whether they
    lie in front of it."""
    local = (points - c2w[:3, 3]) @ c2w[:3, :3]
    depth = -local[:, 2]
    safe = depth.clamp_min(1e-6)
    x, y = local[:, 0] / safe, -local[:, 1] / safe
    if has_distortion(intrinsics.distortion):
        x, y = distort(x, y, torch.tensor(intrinsics.distortion, dtype=x.dtype, device=x.device))
    pixels = torch.stack([x * intrinsics.fx + intrinsics.cx, y * intrinsics.fy + intrinsics.cy], dim=-1)
    return pixels, depth > 1e-6


def visual_hull(
    points: torch.Tensor,
    poses: torch.Tensor,
    intrinsics: Intrinsics | list[Intrinsics],
    alphas: torch.Tensor,
    margin_pixels: int = 1,
    threshold: float = 0.01,
) -> torch.Tensor:
    """Which points [M, 3] may hold the object: not on the background (alpha < threshold, after growing the
    masks [N, H, W] by `margin_pixels`) of any view [N, 4, 4] that sees them; `intrinsics` is one camera for all
    views or one per view."""
    k = 2 * margin_pixels + 1
    grown = F.max_pool2d(alphas[:, None].float(), k, stride=1, padding=margin_pixels)[:, 0]
    inside = torch.ones(points.shape[0], dtype=torch.bool, device=points.device)
    cameras = intrinsics if isinstance(intrinsics, list) else [intrinsics] * len(poses)
    for c2w, mask, camera in zip(poses, grown, cameras):
        h, w = camera.height, camera.width
        pixels, in_front = project(points, c2w, camera)
        px, py = pixels[:, 0].floor().long(), pixels[:, 1].floor().long()
        seen = in_front & (px >= 0) & (px < w) & (py >= 0) & (py < h)
        background = torch.zeros_like(seen)
        background[seen] = mask[py[seen], px[seen]] < threshold
        inside &= ~background
    return inside
