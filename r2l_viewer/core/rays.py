"""Rays through pixels (their centres, or corners as nerf-pytorch's), a lens model, the NDC warp for forward-facing
scenes, ray-box intersection."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch

from .cameras import Intrinsics
from .lens import has_distortion, undistort

PIXEL_CENTRE = 0.5  # where in its pixel a ray passes by default (COLMAP, nerfstudio); nerf-pytorch's get_rays: 0

@dataclass(frozen=True)
class NdcSpace:
    """The normalised-device-coordinate space of a forward-facing scene (fixed per scene, not per view)."""

    height: int
    width: int
    focal: float
    near: float = 1.0

    def to_dict(self) -> dict:
        return {"height": self.height, "width": self.width, "focal": self.focal, "near": self.near}

    @classmethod
    def from_dict(cls, d: dict) -> "NdcSpace":
        return cls(int(d["height"]), int(d["width"]), float(d["focal"]), float(d["near"]))


def rays_from_pixels(
    c2w: torch.Tensor,
    fx: torch.Tensor | float,
    fy: torch.Tensor | float,
    cx: torch.Tensor | float,
    cy: torch.Tensor | float,
    x: torch.Tensor,
    y: torch.Tensor,
    distortion: torch.Tensor | tuple | None = None,
    pixel_offset: float = PIXEL_CENTRE,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Rays through the centres of pixels (x, y) (column, row), through the lens model when `distortion` is given.

    c2w: [..., 3 or 4, 4] broadcastable to x; intrinsics scalars or [...]; x, y: [...] pixel indices (the centre
    of pixel i is at i + 0.5, as in COLMAP and nerfstudio; `pixel_offset` 0 puts the ray through its corner i, as
    nerf-pytorch's get_rays does); distortion: None, () or OpenCV coefficients (k1, k2, k3, k4, p1, p2), a tuple
    or a tensor [..., 6] (see r2l_viewer.core.lens).
    Returns origins [..., 3] and directions [..., 3]; a direction has camera-space z = -1 (not unit length), so the
    ray parameter t is depth along the optical axis, as in NeRF.
    """
    dx = (x.to(torch.float32) + pixel_offset - cx) / fx
    dy = (y.to(torch.float32) + pixel_offset - cy) / fy
    if distortion is not None and has_distortion(distortion):
        coefficients = torch.as_tensor(distortion, dtype=torch.float32, device=dx.device)
        dx, dy = undistort(dx, dy, coefficients)
    dirs_cam = torch.stack([dx, -dy, -torch.ones_like(dx)], dim=-1)
    rot = c2w[..., :3, :3]
    directions = (rot @ dirs_cam[..., None])[..., 0]
    origins = c2w[..., :3, 3].expand_as(directions)
    return origins, directions


def _pixel_grid(intrinsics: Intrinsics, device) -> tuple[torch.Tensor, torch.Tensor]:
    ys, xs = torch.meshgrid(torch.arange(intrinsics.height, device=device), torch.arange(intrinsics.width, device=device),
                            indexing="ij")
    return xs, ys


@functools.lru_cache(maxsize=8)
def _lens_directions(intrinsics: Intrinsics, device: str, pixel_offset: float) -> torch.Tensor:
    """Camera-space directions [H, W, 3] of a camera with lens distortion (undistorting takes a few Newton steps,
    so a camera's directions are worked out once, e.g. for every frame of the live view)."""
    xs, ys = _pixel_grid(intrinsics, device)
    identity = torch.eye(4, device=device)
    return rays_from_pixels(identity, intrinsics.fx, intrinsics.fy, intrinsics.cx, intrinsics.cy, xs, ys,
                            intrinsics.distortion, pixel_offset)[1]


def camera_rays(c2w: torch.Tensor, intrinsics: Intrinsics,
                pixel_offset: float = PIXEL_CENTRE) -> tuple[torch.Tensor, torch.Tensor]:
    """One ray per pixel of an image (through the camera's lens model; through each pixel's centre, or where
    `pixel_offset` says, see `rays_from_pixels`): origins and directions [H, W, 3] on c2w's device."""
    c2w = c2w.to(torch.float32)
    if has_distortion(intrinsics.distortion):
        lens = _lens_directions(intrinsics, str(c2w.device), float(pixel_offset))
        directions = (c2w[:3, :3] @ lens[..., None])[..., 0]
        return c2w[:3, 3].expand_as(directions), directions
    xs, ys = _pixel_grid(intrinsics, c2w.device)
    return rays_from_pixels(c2w, intrinsics.fx, intrinsics.fy, intrinsics.cx, intrinsics.cy, xs, ys,
                            pixel_offset=pixel_offset)


def to_ndc(origins: torch.Tensor, directions: torch.Tensor, ndc: NdcSpace) -> tuple[torch.Tensor, torch.Tensor]:
    """Warp rays [..., 3] into NDC space (LLFF forward-facing scenes): the far plane at infinity maps to z = 1."""
    t = -(ndc.near + origins[..., 2]) / directions[..., 2]
    o = origins + t[..., None] * directions
    ax, ay = -2.0 * ndc.focal / ndc.width, -2.0 * ndc.focal / ndc.height
    oz = o[..., 2]
    o_ndc = torch.stack([ax * o[..., 0] / oz, ay * o[..., 1] / oz, 1.0 + 2.0 * ndc.near / oz], dim=-1)
    dz = directions[..., 2]
    d_ndc = torch.stack(
        [
            ax * (directions[..., 0] / dz - o[..., 0] / oz),
            ay * (directions[..., 1] / dz - o[..., 1] / oz),
            -2.0 * ndc.near / oz,
        ],
        dim=-1,
    )
    return o_ndc, d_ndc


def intersect_aabb(
    origins: torch.Tensor, directions: torch.Tensor, box_min: torch.Tensor, box_max: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Entry and exit ray parameters [N] of rays [N, 3] with an axis-aligned box; exit < entry where they miss."""
    safe = torch.where(directions.abs() < 1e-9, torch.full_like(directions, 1e-9), directions)
    t0 = (box_min - origins) / safe
    t1 = (box_max - origins) / safe
    t_enter = torch.minimum(t0, t1).amax(dim=-1)
    t_exit = torch.maximum(t0, t1).amin(dim=-1)
    return t_enter, t_exit
