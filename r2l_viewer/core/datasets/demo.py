"""A procedural demo scene: textured spheres and boxes ray-traced exactly from Blender-like cameras, no files."""

from __future__ import annotations

import math

import torch

from ..cameras import Intrinsics, circular_path, spherical_pose
from ..rays import camera_rays, intersect_aabb
from .base import Dataset, SceneMeta, Split, composite_on, downscale_images, orbit_of_inward_cameras

CAMERA_ANGLE_X = 0.6911112070083618  # the NeRF Synthetic scenes' horizontal field of view
BASE_RESOLUTION = 400
DEFAULT_DOWNSCALE = 4  # the demo is used at 100x100 unless asked otherwise: a CPU renders and trains on it quickly
LIGHT = torch.nn.functional.normalize(torch.tensor([0.4, -0.3, 0.85]), dim=0)
SPHERES = [((0.0, 0.0, 0.35), 0.55, "checker"), ((0.62, -0.55, 0.22), 0.22, "band")]
BOXES = [((-0.8, -0.8, -0.7), (0.8, 0.8, -0.2), "stripes"), ((-0.75, 0.4, -0.2), (-0.45, 0.7, 0.55), "grid")]


def _hit_sphere(o, d, centre, radius):
    oc = o - torch.tensor(centre)
    a = (d * d).sum(-1)
    b = 2.0 * (oc * d).sum(-1)
    c = (oc * oc).sum(-1) - radius**2
    disc = b * b - 4 * a * c
    t = (-b - disc.clamp_min(0).sqrt()) / (2 * a)
    t = torch.where((disc > 0) & (t > 0), t, torch.full_like(t, math.inf))
    points = o + t[:, None] * d
    normals = torch.nn.functional.normalize(points - torch.tensor(centre), dim=-1)
    return t, normals


def _hit_box(o, d, lo, hi):
    lo_t, hi_t = torch.tensor(lo), torch.tensor(hi)
    t_enter, t_exit = intersect_aabb(o, d, lo_t, hi_t)
    t = torch.where((t_enter < t_exit) & (t_enter > 0), t_enter, torch.full_like(t_enter, math.inf))
    safe = torch.where(d.abs() < 1e-9, torch.full_like(d, 1e-9), d)
    t_near = torch.minimum((lo_t - o) / safe, (hi_t - o) / safe)
    axis = t_near.argmax(-1)
    normals = torch.zeros_like(d)
    normals[torch.arange(d.shape[0]), axis] = -torch.sign(d[torch.arange(d.shape[0]), axis])
    return t, normals


def _albedo(style: str, points: torch.Tensor, normals: torch.Tensor) -> torch.Tensor:
    x, y, z = points.unbind(-1)
    if style == "checker":
        u = torch.atan2(normals[:, 1], normals[:, 0]) / (2 * math.pi) + 0.5
        v = torch.acos(normals[:, 2].clamp(-1, 1)) / math.pi
        on = ((torch.floor(u * 12) + torch.floor(v * 6)) % 2)[:, None]
        return on * torch.tensor([0.95, 0.55, 0.1]) + (1 - on) * torch.tensor([0.1, 0.55, 0.75])
    if style == "band":
        on = (normals[:, 2].abs() < 0.25).float()[:, None]
        return on * torch.tensor([0.98, 0.9, 0.2]) + (1 - on) * torch.tensor([0.2, 0.75, 0.3])
    if style == "stripes":
        on = (torch.floor((x + y) * 4) % 2)[:, None]
        return on * torch.tensor([0.85, 0.2, 0.25]) + (1 - on) * torch.tensor([0.95, 0.92, 0.85])
    line = ((z * 5) % 1.0 < 0.18).float()[:, None]
    return line * torch.tensor([0.2, 0.1, 0.3]) + (1 - line) * torch.tensor([0.6, 0.35, 0.85])


def trace(origins: torch.Tensor, directions: torch.Tensor) -> torch.Tensor:
    """Exact RGBA [N, 4] of the demo object along rays [N, 3] (alpha 1 on the object, 0 elsewhere)."""
    hits = [(*_hit_sphere(origins, directions, c, r), s) for c, r, s in SPHERES]
    hits += [(*_hit_box(origins, directions, lo, hi), s) for lo, hi, s in BOXES]
    t_all = torch.stack([h[0] for h in hits], dim=-1)
    nearest = t_all.argmin(-1)
    t_min = t_all.gather(-1, nearest[:, None])[:, 0]
    rgba = torch.zeros(origins.shape[0], 4)
    for k, (t, normals, style) in enumerate(hits):
        sel = (nearest == k) & torch.isfinite(t_min)
        if sel.any():
            points = origins[sel] + t[sel, None] * directions[sel]
            shade = 0.35 + 0.65 * (normals[sel] @ LIGHT).clamp_min(0)[:, None]
            rgba[sel, :3] = (_albedo(style, points, normals[sel]) * shade).clamp(0, 1)
            rgba[sel, 3] = 1.0
    return rgba


def render_demo_view(c2w: torch.Tensor, intrinsics: Intrinsics, supersample: int = 2) -> torch.Tensor:
    """The exact RGBA image [H, W, 4] of one view, anti-aliased by averaging supersample^2 rays per pixel."""
    fine = intrinsics.resized(intrinsics.height * supersample, intrinsics.width * supersample)
    o, d = camera_rays(c2w.float(), fine)
    rgba = torch.cat([trace(oc, dc) for oc, dc in zip(o.reshape(-1, 3).split(65536), d.reshape(-1, 3).split(65536))])
    return downscale_images(rgba.reshape(1, fine.height, fine.width, 4), supersample)[0]


def demo_poses(count: int, seed: int, elevation=(10.0, 80.0)) -> torch.Tensor:
    """`count` cameras at radius 4 looking at the origin from random directions of the upper hemisphere."""
    gen = torch.Generator().manual_seed(seed)
    az = torch.rand(count, generator=gen) * 360.0 - 180.0
    el = torch.rand(count, generator=gen) * (elevation[1] - elevation[0]) + elevation[0]
    return torch.stack([spherical_pose(float(a), float(e), 4.0) for a, e in zip(az, el)])


def load_demo(downscale: float = DEFAULT_DOWNSCALE, splits=("train", "val", "test"), counts=(100, 10, 20), seed: int = 0) -> Dataset:
    """The demo scene at 400/downscale pixels square: random train/val views, test views on the 360 path."""
    size = max(8, round(BASE_RESOLUTION / downscale))
    intrinsics = Intrinsics.from_fov_x(size, size, CAMERA_ANGLE_X)
    poses = {
        "train": demo_poses(counts[0], seed),
        "val": demo_poses(counts[1], seed + 1),
        "test": circular_path(counts[2], 30.0, 4.0),
    }
    loaded = {}
    for name in splits:
        rgba = torch.stack([render_demo_view(p, intrinsics) for p in poses[name]])
        images = composite_on(rgba, (1.0, 1.0, 1.0))
        names = [f"{name}_{i:03d}" for i in range(len(images))]
        loaded[name] = Split(images, poses[name], intrinsics, names, rgba[..., 3].contiguous())
    meta = SceneMeta(
        name="demo",
        format="demo",
        near=2.0,
        far=6.0,
        intrinsics=intrinsics,
        box_min=(-1.2, -1.2, -1.2),
        box_max=(1.2, 1.2, 1.2),
        source="demo",
        **orbit_of_inward_cameras(poses["train"]),
    )
    return Dataset(meta, loaded)
