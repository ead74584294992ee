"""The built-in camera path of a scene: the NeRF papers' 40-frame orbit for 360-degree scenes, nerf-pytorch's
120-frame spiral for forward-facing (LLFF) scenes, as keyframes one frame apart."""

from __future__ import annotations

import math

import torch

from .camera_path import DEFAULT_FPS, CameraPath, Keyframe, vertical_fov
from .cameras import circular_path
from .datasets.base import SceneMeta

ORBIT_FRAMES = 40  # nerf-pytorch's render_poses: pose_spherical(angle, -30, 4) for 40 angles from -180 degrees
ORBIT_ELEVATION = 30.0  # degrees above the ground plane (nerf-pytorch's phi = -30)
ORBIT_RADIUS = 4.0  # Blender scenes' render distance
SPIRAL_FRAMES = 120  # nerf-pytorch's LLFF render path: 2 turns of a spiral, 120 views
SPIRAL_TURNS = 2
SPIRAL_Z_RATE = 0.5
SPIRAL_PERCENTILE = 90  # the spiral's radii: this percentile of the cameras' absolute positions


def is_forward_facing(meta: SceneMeta) -> bool:
    """NDC scenes and scenes whose cameras cover under half a turn around their centre."""
    return meta.ndc is not None or meta.azimuth_range[1] - meta.azimuth_range[0] < 180.0


def standard_path(meta: SceneMeta, cameras: dict[str, torch.Tensor] | None = None,
                  fps: float = DEFAULT_FPS) -> CameraPath:
    """The scene's standard render path at its own image size and field of view (see the module docstring)."""
    intrinsics = meta.intrinsics
    if is_forward_facing(meta) and cameras:
        poses = spiral_poses(torch.cat(list(cameras.values())), meta.orbit_radius)
        loop = False
    else:
        poses = orbit_poses(meta)
        loop = True
    fov = vertical_fov(intrinsics)
    keyframes = [Keyframe(pose, fov) for pose in poses]
    return CameraPath(keyframes, intrinsics.width, intrinsics.height, fps=fps, transition=1.0 / fps, loop=loop)


def orbit_poses(meta: SceneMeta) -> torch.Tensor:
    """40 poses round the scene: exactly nerf-pytorch's render_poses for Blender scenes (30 degrees up, radius 4,
    about the origin, z up); for other 360-degree scenes the same about their orbit centre and up vector, at their
    orbit radius and at 30 degrees (kept inside the elevations their cameras cover)."""
    if meta.format == "blender":
        return circular_path(ORBIT_FRAMES, ORBIT_ELEVATION, ORBIT_RADIUS)
    lo, hi = meta.elevation_range
    elevation = min(max(ORBIT_ELEVATION, lo), hi)
    return circular_path(ORBIT_FRAMES, elevation, meta.orbit_radius, meta.orbit_center, meta.orbit_up)


def spiral_poses(poses: torch.Tensor, focus_depth: float, frames: int = SPIRAL_FRAMES) -> torch.Tensor:
    """nerf-pytorch's LLFF render path (render_path_spiral) around the cameras' average pose: two turns, the
    camera's depth swinging at half the rate, every view looking at the point `focus_depth` ahead of the average
    camera. Poses [N, 4, 4] (OpenGL convention); the result [frames, 4, 4]."""
    poses = poses.double()
    average = average_pose(poses)
    up = _unit(poses[:, :3, 1].sum(0))
    radii = torch.quantile(poses[:, :3, 3].abs(), SPIRAL_PERCENTILE / 100.0, dim=0)
    target = average[:3, :3] @ torch.tensor([0.0, 0.0, -focus_depth], dtype=torch.float64) + average[:3, 3]
    out = []
    for theta in torch.linspace(0.0, 2 * math.pi * SPIRAL_TURNS, frames + 1, dtype=torch.float64)[:-1]:
        local = torch.stack([torch.cos(theta), -torch.sin(theta), -torch.sin(theta * SPIRAL_Z_RATE)]) * radii
        eye = average[:3, :3] @ local + average[:3, 3]
        out.append(_view_matrix(eye - target, up, eye))
    return torch.stack(out).float()


def average_pose(poses: torch.Tensor) -> torch.Tensor:
    """The average camera of poses [N, 4, 4] (nerf-pytorch's poses_avg): mean position, summed back and up axes."""
    return _view_matrix(poses[:, :3, 2].sum(0), poses[:, :3, 1].sum(0), poses[:, :3, 3].mean(0))


def _view_matrix(back: torch.Tensor, up: torch.Tensor, eye: torch.Tensor) -> torch.Tensor:
    z = _unit(back)
    x = _unit(torch.linalg.cross(up, z))
    y = _unit(torch.linalg.cross(z, x))
    c2w = torch.eye(4, dtype=torch.float64)
    c2w[:3, 0], c2w[:3, 1], c2w[:3, 2], c2w[:3, 3] = x, y, z, eye
    return c2w


def _unit(v: torch.Tensor) -> torch.Tensor:
    return v / v.norm()
