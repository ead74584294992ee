"""The space of an unbounded capture: the region around its cameras that is modelled as it is (the rest is
contracted), and the orbit and arc its cameras cover, for pseudo views and the viewer."""

from __future__ import annotations


import torch

from ..cameras import Intrinsics, focus_point, pose_angles
from ..contraction import ContractedSpace
from .base import SceneMeta, orbit_of_inward_cameras
from .scene_shape import ALL_AROUND_GAP, mean_up

REGION_MARGIN = 1.1  # the unit region reaches this much beyond the farthest camera (max-norm), so all are inside
ARC_PAD = 10.0  # degrees of azimuth beyond the cameras' arc that pseudo views and the viewer may go


def arc_range(poses: torch.Tensor, center, up, pad: float = ARC_PAD) -> tuple[float, float]:
    """The azimuth range (degrees, in the orbit's convention) the cameras [N, 4, 4] cover around `center`: all round
    when no gap exceeds ALL_AROUND_GAP, else their arc (which may cross +-180) padded by `pad`."""
    angles = sorted(pose_angles(p, center, up)[0] for p in poses)
    gaps = [(angles[(i + 1) % len(angles)] - angles[i]) % 360.0 for i in range(len(angles))]
    widest = max(range(len(gaps)), key=gaps.__getitem__)
    if gaps[widest] <= ALL_AROUND_GAP or len(angles) < 2:
        return (-180.0, 180.0)
    start = angles[(widest + 1) % len(angles)]
    return (start - pad, start + (360.0 - gaps[widest]) + pad)


def unit_region(poses: torch.Tensor) -> ContractedSpace:
    """The contracted space of a capture: centred where the cameras look, its cube holding every camera."""
    center = focus_point(poses)
    reach = float((poses[:, :3, 3] - center).abs().amax())
    return ContractedSpace(tuple(round(float(c), 6) for c in center), round(REGION_MARGIN * reach, 6))


def unbounded_meta(name: str, fmt: str, intrinsics: Intrinsics, poses: torch.Tensor, background: tuple,
                   extra: dict, source: str, up=None) -> SceneMeta:
    """Metadata of an unbounded capture: contracted space around its cameras [N, 4, 4], near 0 and depth's far
    bound, and the orbit (centre, radius, elevations, azimuth arc) the cameras take around their subject."""
    space = unit_region(poses)
    up = tuple(float(u) for u in (mean_up(poses) if up is None else up))
    orbit = orbit_of_inward_cameras(poses, up)
    lo = tuple(c - space.radius for c in space.center)
    hi = tuple(c + space.radius for c in space.center)
    meta = SceneMeta(
        name=name, format=fmt, near=0.0, far=space.depth_far, intrinsics=intrinsics, background=background,
        box_min=lo, box_max=hi, source=source, extra=extra, kind="unbounded", contraction=space.to_dict(), **orbit,
    )
    meta.azimuth_range = arc_range(poses, meta.orbit_center, up)
    return meta


