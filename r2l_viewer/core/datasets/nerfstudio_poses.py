"""Where a nerfstudio capture's cameras go: oriented, centred and scaled as nerfstudio's parser does, then checked to
surround one object, whose box, near/far bounds and orbit are estimated from the cameras."""

from __future__ import annotations

import math

import torch

from ..cameras import Intrinsics, focus_point
from .base import DatasetError

ORIENTATIONS = ("up", "none")
MAX_LOOK_ANGLE = 30.0  # degrees: cameras must look (median) within this of the point their optical axes meet at
MIN_COVERAGE = 120.0  # degrees of azimuth around that point the cameras must span to surround an object
FULL_CIRCLE_GAP = 90.0  # degrees: a capture whose widest gap in azimuth is at most this is all round
Z_UP = (0.0, 0.0, 1.0)


def rotation_between(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The 3x3 rotation that turns direction a onto direction b (about their common normal; a half turn about a
    perpendicular axis when they are opposite)."""
    a, b = a / a.norm(), b / b.norm()
    axis = torch.linalg.cross(a, b)
    if axis.abs().sum() < 1e-6:
        helper = torch.tensor([1.0, 0.0, 0.0], dtype=a.dtype) if abs(float(a[0])) < 1e-6 else \
            torch.tensor([0.0, 1.0, 0.0], dtype=a.dtype)
        axis = torch.linalg.cross(a, helper)
    axis = axis / axis.norm()
    skew = torch.zeros(3, 3, dtype=a.dtype)
    skew[0, 1], skew[0, 2], skew[1, 2] = -axis[2], axis[1], -axis[0]
    skew = skew - skew.T
    angle = torch.arccos(torch.clamp(torch.dot(a, b), -1.0, 1.0))
    return torch.eye(3, dtype=a.dtype) + torch.sin(angle) * skew + (1.0 - torch.cos(angle)) * (skew @ skew)


def orient_and_scale(poses: torch.Tensor, orientation: str = "up") -> tuple[torch.Tensor, torch.Tensor, float]:
    """nerfstudio's defaults (orientation 'up', centre 'poses', auto_scale_poses): rotate the mean camera up
    vector onto +z and move the mean camera position to the origin, then scale positions so the largest
    coordinate is 1. Returns the poses [N, 4, 4], the rigid transform [3, 4] and the scale: a world point p goes
    to scale * (R p + t)."""
    poses = poses.double()
    centre = poses[:, :3, 3].mean(0)
    if orientation == "up":
        rotation = rotation_between(poses[:, :3, 1].mean(0), torch.tensor(Z_UP, dtype=torch.float64))
    else:
        rotation = torch.eye(3, dtype=torch.float64)
    transform = torch.cat([rotation, (rotation @ -centre)[:, None]], dim=1)
    moved = poses.clone()
    moved[:, :3, :] = transform @ poses
    scale = 1.0 / float(moved[:, :3, 3].abs().max().clamp_min(1e-12))
    moved[:, :3, 3] *= scale
    return moved.float(), transform.float(), scale


def azimuth_coverage(directions: torch.Tensor) -> tuple[float, float]:
    """(first azimuth, span) in degrees of the smallest arc about +z that holds every direction [N, 3]: the
    circle less its largest gap."""
    angles = sorted(math.degrees(math.atan2(float(d[0]), float(d[1]))) for d in directions)
    if len(angles) < 2:
        return (angles[0] if angles else 0.0), 0.0
    gaps = [(angles[(i + 1) % len(angles)] - angles[i]) % 360.0 for i in range(len(angles))]
    widest = max(range(len(gaps)), key=gaps.__getitem__)
    start = angles[(widest + 1) % len(angles)]
    return start, 360.0 - gaps[widest]


def check_surrounds_object(path, poses: torch.Tensor) -> tuple[torch.Tensor, float, float]:
    """The point the cameras look at, and the first azimuth and span of the arc they cover around it; a
    DatasetError when they do not look at one point from around it (forward-facing or unbounded captures)."""
    focus = focus_point(poses)
    to_focus = focus - poses[:, :3, 3]
    axes = -poses[:, :3, 2]
    cosines = (to_focus * axes).sum(-1) / (to_focus.norm(dim=-1) * axes.norm(dim=-1)).clamp_min(1e-12)
    look = float(torch.rad2deg(torch.arccos(cosines.clamp(-1.0, 1.0))).median())
    start, span = azimuth_coverage(poses[:, :3, 3] - focus)
    if look > MAX_LOOK_ANGLE or span < MIN_COVERAGE:
        raise DatasetError(
            f"{path}: the cameras do not surround one object (they look {look:.0f} degrees off the point their "
            f"views meet at, median, and span {span:.0f} degrees around it; need under {MAX_LOOK_ANGLE:.0f} and over "
            f"{MIN_COVERAGE:.0f}): an object in a box needs cameras around it; leave --scene-kind to auto")
    return focus, start, span


def object_bounds(focus: torch.Tensor, poses: torch.Tensor, intrinsics: Intrinsics) -> dict:
    """The box around the focus that the median camera's narrower field of view just frames (half side = distance
    x tan(half angle); for NeRF Synthetic's cameras about the usual 1.5), and near/far bounds that hold it."""
    distances = (poses[:, :3, 3] - focus).norm(dim=-1)
    half_angle = min(math.atan(intrinsics.width / (2 * intrinsics.fx)),
                     math.atan(intrinsics.height / (2 * intrinsics.fy)))
    half = float(distances.median()) * math.tan(half_angle)
    reach = math.sqrt(3.0) * half
    near = max(float(distances.min()) - reach, 0.02 * float(distances.min()))
    box_min = tuple(round(float(c) - half, 6) for c in focus)
    box_max = tuple(round(float(c) + half, 6) for c in focus)
    return {"box_min": box_min, "box_max": box_max, "near": near, "far": float(distances.max()) + reach}


def azimuth_range(start: float, span: float, pad: float = 10.0) -> tuple[float, float]:
    """Pseudo views' azimuth range: all round for captures that circle the object (no gap over FULL_CIRCLE_GAP
    degrees), else the covered arc padded, in the orbit's convention (spherical_pose: clockwise from +y seen from
    above)."""
    if span >= 360.0 - FULL_CIRCLE_GAP:
        return (-180.0, 180.0)
    return (start - pad, start + span + pad)
