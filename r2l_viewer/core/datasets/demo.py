"""A procedural demo scene: textured spheres and boxes ray-traced exactly from Blender-like cameras, no files."""

from __future__ import annotations

import math
from functools import partial

import torch

from ..cameras import Intrinsics, circular_path, spherical_pose
from ..rays import intersect_aabb, rays_from_pixels
from .base import Dataset, SceneMeta, Split, composite_on, downscale_images, orbit_of_inward_cameras

CAMERA_ANGLE_X = 0.6911112070083618  # the NeRF Synthetic scenes' horizontal field of view
BASE_RESOLUTION = 400
DEFAULT_DOWNSCALE = 4  # the demo is used at 100x100 unless asked otherwise: a CPU renders and trains on it quickly
LIGHT = torch.nn.functional.normalize(torch.tensor([0.4, -0.3, 0.85]), dim=0)
SPHERES = [((0.0, 0.0, 0.35), 0.55, "checker"), ((0.62, -0.55, 0.22), 0.22, "band")]
BOXES = [((-0.8, -0.8, -0.7), (0.8, 0.8, -0.2), "stripes"), ((-0.75, 0.4, -0.2), (-0.45, 0.7, 0.55), "grid")]
BOUNDING_RADIUS = 1.35  # a sphere around the origin holding every object (the farthest box corner is at 1.33)
TRACE_RAYS = 1 << 19  # rays traced per tensor operation (fewer, larger operations: less per-operation overhead)


def _sphere_t(o, d, centre, radius):
    """Ray parameter [N] of the first hit of rays [N, 3] with a sphere; inf where they miss."""
    oc = o - torch.tensor(centre)
    a = (d * d).sum(-1)
    b = 2.0 * (oc * d).sum(-1)
    c = (oc * oc).sum(-1) - radius**2
    disc = b * b - 4 * a * c
    t = (-b - disc.clamp_min(0).sqrt()) / (2 * a)
    return torch.where((disc > 0) & (t > 0), t, torch.full_like(t, math.inf))


def _sphere_normals(o, d, points, centre):
    return torch.nn.functional.normalize(points - torch.tensor(centre), dim=-1)


def _box_t(o, d, lo, hi):
    """Ray parameter [N] where rays [N, 3] enter an axis-aligned box; inf where they miss (or start inside)."""
    t_enter, t_exit = intersect_aabb(o, d, torch.tensor(lo), torch.tensor(hi))
    return torch.where((t_enter < t_exit) & (t_enter > 0), t_enter, torch.full_like(t_enter, math.inf))


def _box_normals(o, d, points, lo, hi):
    """Outward normals where rays [N, 3] enter the box: along the axis whose slab they enter last."""
    lo_t, hi_t = torch.tensor(lo), torch.tensor(hi)
    safe = torch.where(d.abs() < 1e-9, torch.full_like(d, 1e-9), d)
    t_near = torch.minimum((lo_t - o) / safe, (hi_t - o) / safe)
    axis = t_near.argmax(-1, keepdim=True)
    normals = torch.zeros_like(d)
    return normals.scatter_(-1, axis, -torch.sign(d.gather(-1, axis)))


def _primitives():
    """(hit distance, normals, texture style) of every object of the scene."""
    spheres = [(partial(_sphere_t, centre=c, radius=r), partial(_sphere_normals, centre=c), style)
               for c, r, style in SPHERES]
    boxes = [(partial(_box_t, lo=lo, hi=hi), partial(_box_normals, lo=lo, hi=hi), style) for lo, hi, style in BOXES]
    return spheres + boxes


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
        on = albedo_is_marked(style, points).float()[:, None]
        return on * torch.tensor([0.85, 0.2, 0.25]) + (1 - on) * torch.tensor([0.95, 0.92, 0.85])
    line = ((z * 5) % 1.0 < 0.18).float()[:, None]
    return line * torch.tensor([0.2, 0.1, 0.3]) + (1 - line) * torch.tensor([0.6, 0.35, 0.85])


def trace(origins: torch.Tensor, directions: torch.Tensor) -> torch.Tensor:
    """Exact RGBA [N, 4] of the demo object along rays [N, 3] (alpha 1 on the object, 0 elsewhere)."""
    rgba = torch.zeros(origins.shape[0], 4)
    near_object = torch.isfinite(_sphere_t(origins, directions, (0.0, 0.0, 0.0), BOUNDING_RADIUS))
    rays = near_object.nonzero()[:, 0]  # only rays that come near the object are traced further
    o, d = origins[rays], directions[rays]
    primitives = _primitives()
    t_min, nearest = torch.stack([hit(o, d) for hit, _, _ in primitives], dim=-1).min(dim=-1)
    for k, (_, normals_at, style) in enumerate(primitives):
        sel = ((nearest == k) & torch.isfinite(t_min)).nonzero()[:, 0]
        if sel.numel():
            points = o[sel] + t_min[sel, None] * d[sel]
            normals = normals_at(o[sel], d[sel], points)
            shade = 0.35 + 0.65 * (normals * LIGHT).sum(-1).clamp_min(0)[:, None]
            rgba[rays[sel], :3] = (_albedo(style, points, normals) * shade).clamp(0, 1)
            rgba[rays[sel], 3] = 1.0
    return rgba


def trace_depth(origins: torch.Tensor, directions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The exact ray parameter t [N] of the first surface along rays [N, 3] (inf where they miss the object), and
    the index [N] of the primitive hit (into SPHERES + BOXES; -1 where none)."""
    t_min, nearest = torch.stack([hit(origins, directions) for hit, _, _ in _primitives()], dim=-1).min(dim=-1)
    return t_min, torch.where(torch.isfinite(t_min), nearest, torch.full_like(nearest, -1))


def albedo_is_marked(style: str, points: torch.Tensor) -> torch.Tensor:
    """Where a texture of `style` ('stripes': the box's red stripes) takes its marked colour at points [N, 3]."""
    if style != "stripes":
        raise ValueError(f"no marked colour known for {style!r}")
    return (torch.floor((points[:, 0] + points[:, 1]) * 4) % 2) == 1


def render_demo_views(poses: torch.Tensor, intrinsics: Intrinsics, supersample: int = 2) -> torch.Tensor:
    """The exact RGBA images [V, H, W, 4] of views [V, 4, 4], anti-aliased by averaging supersample^2 rays per
    pixel; many small views are traced together so each tensor operation has enough rays to be worth it."""
    fine = intrinsics.resized(intrinsics.height * supersample, intrinsics.width * supersample)
    ys, xs = torch.meshgrid(torch.arange(fine.height), torch.arange(fine.width), indexing="ij")
    per_group = max(1, TRACE_RAYS // (fine.height * fine.width))
    images = []
    for group in poses.float().split(per_group):
        o, d = rays_from_pixels(group[:, None, None], fine.fx, fine.fy, fine.cx, fine.cy, xs, ys)
        o, d = o.reshape(-1, 3), d.reshape(-1, 3)
        rgba = torch.cat([trace(oc, dc) for oc, dc in zip(o.split(TRACE_RAYS), d.split(TRACE_RAYS))])
        images.append(downscale_images(rgba.reshape(len(group), fine.height, fine.width, 4), supersample))
    return torch.cat(images)


def render_demo_view(c2w: torch.Tensor, intrinsics: Intrinsics, supersample: int = 2) -> torch.Tensor:
    """The exact RGBA image [H, W, 4] of one view (see `render_demo_views`)."""
    return render_demo_views(c2w[None], intrinsics, supersample)[0]


def demo_poses(count: int, seed: int, elevation=(10.0, 80.0)) -> torch.Tensor:
    """`count` cameras at radius 4 looking at the origin from random directions of the upper hemisphere."""
    gen = torch.Generator().manual_seed(seed)
    u = torch.rand(count, generator=gen) * 360.0 - 180.0
    el = torch.rand(count, generator=gen) * (elevation[1] - elevation[0]) + elevation[0]
    # azimuth 180 - u: the cameras stay exactly where they were before spherical_pose took nerf-pytorch's azimuth,
    # so checkpoints made on the demo (assets/demo.ckpt among them) still hold the dataset's cameras
    return torch.stack([spherical_pose(180.0 - float(a), float(e), 4.0) for a, e in zip(u, el)])


def load_demo(
    downscale: float = DEFAULT_DOWNSCALE, splits=("train", "val", "test"), counts=(100, 10, 20), seed: int = 0
) -> Dataset:
    """The demo scene at 400/downscale pixels square (100 by default): random train/val views, test views on the
    360 path; only the splits asked for are rendered."""
    size = max(8, round(BASE_RESOLUTION / downscale))
    intrinsics = Intrinsics.from_fov_x(size, size, CAMERA_ANGLE_X)
    poses = {
        "train": demo_poses(counts[0], seed),
        "val": demo_poses(counts[1], seed + 1),
        "test": circular_path(counts[2], 30.0, 4.0),
    }
    loaded = {}
    for name in splits:
        rgba = render_demo_views(poses[name], intrinsics)
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
