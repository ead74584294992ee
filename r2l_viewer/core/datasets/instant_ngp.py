"""instant-ngp's conventions in a transforms.json: `aabb_scale`, `scale` and `offset` place the scene's region in
instant-ngp's unit cube (its nerf_matrix_to_ngp: ngp (x, y, z) = scale * nerf (y, z, x) + offset, the region the
cube [0.5 - aabb_scale / 2, 0.5 + aabb_scale / 2]^3). aabb_scale 1 says everything lies inside that cube."""

from __future__ import annotations

import itertools

import torch

from .json_fields import is_number

NGP_SCALE = 0.33  # instant-ngp's defaults when the file gives none
NGP_OFFSET = (0.5, 0.5, 0.5)


def bounded_by_ngp(data: dict) -> bool:
    """Whether the file says its whole scene fits instant-ngp's unit cube (aabb_scale 1)."""
    return is_number(data.get("aabb_scale")) and float(data["aabb_scale"]) == 1.0


def ngp_region_corners(data: dict) -> torch.Tensor:
    """The 8 corners [8, 3] of the file's instant-ngp region, in the file's own (NeRF) world coordinates."""
    scale = float(data["scale"]) if is_number(data.get("scale")) and data["scale"] > 0 else NGP_SCALE
    offset = data.get("offset", NGP_OFFSET)
    if not (isinstance(offset, list | tuple) and len(offset) == 3 and all(is_number(o) for o in offset)):
        offset = NGP_OFFSET
    half = float(data.get("aabb_scale", 1.0)) / 2.0
    corners = []
    for ngp in itertools.product((0.5 - half, 0.5 + half), repeat=3):  # ngp (x, y, z)
        nerf_y, nerf_z, nerf_x = ((c - o) / scale for c, o in zip(ngp, offset))
        corners.append((nerf_x, nerf_y, nerf_z))
    return torch.tensor(corners, dtype=torch.float64)


def ngp_box(data: dict, transform: torch.Tensor, scale: float) -> tuple[tuple, tuple]:
    """The axis-aligned box (min, max) holding the file's instant-ngp region after the loader's world transform (a
    point p goes to scale * (R p + t), `transform` [3, 4] = [R | t])."""
    corners = ngp_region_corners(data)
    moved = scale * (corners @ transform[:, :3].double().T + transform[:, 3].double())
    return tuple(round(float(v), 6) for v in moved.amin(0)), tuple(round(float(v), 6) for v in moved.amax(0))
