"""The built-in camera path of a scene: the NeRF papers' 40-frame orbit for 360-degree objects, nerf-pytorch's
120-frame spiral for forward-facing (LLFF) scenes, and for unbounded captures an ellipse through the capture's
cameras (all round, or to and fro along the arc they cover), as keyframes one frame apart."""

from __future__ import annotations

import math

import torch

from .camera_path import DEFAULT_FPS, CameraPath, Keyframe, vertical_fov
from .cameras import circular_path, look_at, orbit_frame
from .datasets.base import SceneMeta

ORBIT_FRAMES = 40  # nerf-pytorch's render_poses: pose_spherical(angle, -30, 4) for 40 angles from -180 degrees
ORBIT_ELEVATION = 30.0  # degrees above the ground plane (nerf-pytorch's phi = -30)
ORBIT_RADIUS = 4.0  # Blender scenes' render distance
SPIRAL_FRAMES = 120  # nerf-pytorch's LLFF render path: 2 turns of a spiral, 120 views
SPIRAL_TURNS = 2
SPIRAL_Z_RATE = 0.5
SPIRAL_PERCENTILE = 90  # the spiral's radii: this percentile of the cameras' absolute positions
ELLIPSE_FRAMES = 120  # an unbounded capture's path: frames round the ellipse (or along the arc and back)


def is_forward_facing(meta: SceneMeta) -> bool:
    """NDC scenes and bounded scenes whose cameras cover under half a turn around their centre."""
    if meta.ndc is not None:
        return True
    return meta.contraction is None and meta.azimuth_range[1] - meta.azimuth_range[0] < 180.0


def standard_path_name(meta: SceneMeta) -> str:
    """What the scene's standard path is, in words."""
    if is_forward_facing(meta):
        return f"nerf-pytorch's spiral ({SPIRAL_FRAMES} frames)"
    if meta.contraction is not None:
        return f"ellipse through the cameras ({ELLIPSE_FRAMES} frames)"
    return f"standard orbit ({ORBIT_FRAMES} frames)"


def standard_path(meta: SceneMeta, cameras: dict[str, torch.Tensor] | None = None,
                  fps: float = DEFAULT_FPS) -> CameraPath:
    """The scene's standard render path at its own image size and field of view (see the module docstring)."""
    intrinsics = meta.intrinsics
    if is_forward_facing(meta) and cameras:
        poses = spiral_poses(torch.cat(list(cameras.values())), meta.orbit_radius)
        loop = False
    elif meta.contraction is not None and cameras:
        all_round = meta.azimuth_range[1] - meta.azimuth_range[0] >= 360.0
        poses = ellipse_poses(torch.cat(list(cameras.values())), meta.orbit_center, meta.orbit_up, all_round)
        loop = True
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


def ellipse_poses(poses: torch.Tensor, center, up, all_round: bool, frames: int = ELLIPSE_FRAMES) -> torch.Tensor:
    """Views on the ellipse that best fits the cameras [N, 4, 4] seen along `up` (its axes the cameras' principal
    directions about `center`, at their mean height), looking at `center`: once round when the cameras are all
    round, else along the arc they cover and back (so the path loops without a jump)."""
    frame = orbit_frame(torch.as_tensor(up, dtype=torch.float32)).double()
    centre = torch.as_tensor(center, dtype=torch.float64)
    local = (poses[:, :3, 3].double() - centre) @ frame  # x, y in the ground plane, z along up
    flat = local[:, :2]
    _, _, axes = torch.linalg.svd(flat - flat.mean(0), full_matrices=False)
    along = flat @ axes.T  # the cameras in the ellipse's own axes
    radii = (2.0 * along.pow(2).mean(0)).sqrt().clamp_min(1e-6)  # points spread evenly on an ellipse: mean a^2/2
    angles = torch.atan2(along[:, 1] / radii[1], along[:, 0] / radii[0])
    if all_round:
        sweep = torch.linspace(0.0, 2 * math.pi, frames + 1, dtype=torch.float64)[:-1]
    else:
        start, span = _covered_arc(angles)
        turn = torch.linspace(0.0, 2 * math.pi, frames + 1, dtype=torch.float64)[:-1]
        sweep = start + span * (1 - torch.cos(turn)) / 2  # eases out along the arc and back
    height = local[:, 2].mean()
    out = []
    for phi in sweep:
        point = torch.stack([torch.cos(phi) * radii[0], torch.sin(phi) * radii[1]]) @ axes
        eye = centre + frame @ torch.stack([point[0], point[1], height])
        out.append(look_at(eye.float(), centre.float(), torch.as_tensor(up, dtype=torch.float32)))
    return torch.stack(out)


def _covered_arc(angles: torch.Tensor) -> tuple[float, float]:
    """(start, span) in radians of the smallest arc holding all the angles: the circle less its widest gap."""
    ordered = torch.sort(angles).values
    gaps = torch.cat([ordered[1:] - ordered[:-1], (ordered[:1] + 2 * math.pi) - ordered[-1:]])
    widest = int(gaps.argmax())
    start = float(ordered[(widest + 1) % len(ordered)])
    return start, 2 * math.pi - float(gaps[widest])


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
