"""Forward-facing scenes, whatever format they come in: poses recentred on their average, scaled so the nearest
content lies beyond NDC's near plane, and the scene's NDC space and orbit (as nerf-pytorch does for LLFF)."""

from __future__ import annotations

import numpy as np
import torch

from ..cameras import Intrinsics, focus_point
from ..rays import NdcSpace, rays_from_pixels, to_ndc
from .base import SceneMeta, camera_angle_ranges

BOUND_FACTOR = 0.75  # the nearest bound is scaled to 1 / 0.75, as in the NeRF code, so NDC's near plane (1) is safe
NDC_BOX_PAD = 0.05  # the NDC box reaches this much (in NDC units) beyond the training rays' x and y
BORDER_PIXELS = 64  # pixels along each side of the image whose rays bound a camera's view in NDC
NEAR_OF_FOCUS = 0.25  # without depth bounds (a transforms.json), the nearest content is taken at this much of the
#                       distance to the point the cameras look at


def recentre(c2w: np.ndarray) -> np.ndarray:
    """Express poses [N, 3, 4] relative to their average pose (so the cameras look down -z around the origin)."""
    centre = c2w[:, :, 3].mean(0)
    back = c2w[:, :, 2].sum(0)
    back /= np.linalg.norm(back)
    up = c2w[:, :, 1].sum(0)
    right = np.cross(up, back)
    right /= np.linalg.norm(right)
    avg = np.eye(4)
    avg[:3, :] = np.stack([right, np.cross(back, right), back, centre], axis=1)
    homog = np.concatenate([c2w, np.tile([[[0, 0, 0, 1.0]]], (c2w.shape[0], 1, 1))], axis=1)
    return (np.linalg.inv(avg) @ homog)[:, :3, :]


def ndc_frame(c2w: np.ndarray, scale: float) -> torch.Tensor:
    """OpenGL camera-to-world poses [N, 3, 4] scaled by `scale` (which brings the nearest content to
    1 / BOUND_FACTOR) and recentred on the average pose: [N, 4, 4]."""
    c2w = c2w.copy()
    if scale != 1.0:
        c2w[:, :, 3] *= scale
    poses44 = torch.eye(4).repeat(len(c2w), 1, 1)
    poses44[:, :3, :] = torch.from_numpy(recentre(c2w)).float()
    return poses44


def focus_depth(poses: torch.Tensor) -> float:
    """How far in front of the cameras (along their mean axis, from their mean position) their optical axes pass
    closest to each other; for nearly parallel axes (no such point in front), ten times the cameras' spread."""
    positions = poses[:, :3, 3].double()
    axis = -poses[:, :3, 2].double().mean(0)
    axis = axis / axis.norm()
    spread = float((positions - positions.mean(0)).norm(dim=-1).max())
    depth = float((focus_point(poses).double() - positions.mean(0)) @ axis)
    if not np.isfinite(depth) or depth <= 0.0 or depth > 100.0 * max(spread, 1e-9):
        return 10.0 * max(spread, 1e-6)
    return depth


def ndc_box(train_poses: torch.Tensor, cameras: list[Intrinsics], ndc: NdcSpace) -> tuple[tuple, tuple]:
    """The NDC box that holds every training ray from the near plane to infinity: z from -1 to 1, x and y as far as
    the training cameras' views reach (each pose [N, 4, 4] with its own intrinsics, `cameras` [N]), and NDC_BOX_PAD
    beyond (DVGO's box for forward-facing scenes). The unit square holds only the average camera's view: a camera
    turned away from it sees past its sides, and a box of that square would leave the edges of its views empty (on
    fern, 4-22% of each training photo's rays)."""
    lo, hi = torch.full((2,), -1.0), torch.full((2,), 1.0)
    for pose, camera in zip(train_poses, cameras):
        ends = border_ray_ends(pose, camera, ndc)
        lo, hi = torch.minimum(lo, ends.min(0).values), torch.maximum(hi, ends.max(0).values)
    lo, hi = lo - NDC_BOX_PAD, hi + NDC_BOX_PAD
    return (round(float(lo[0]), 4), round(float(lo[1]), 4), -1.0), (round(float(hi[0]), 4), round(float(hi[1]), 4), 1.0)


def border_ray_ends(pose: torch.Tensor, camera: Intrinsics, ndc: NdcSpace) -> torch.Tensor:
    """NDC x and y [4 * BORDER_PIXELS * 2, 2] where rays through a camera's image border meet the near plane (t = 0)
    and infinity (t = 1)."""
    h, w = camera.height, camera.width
    along = lambda n: torch.linspace(0.0, n - 1.0, BORDER_PIXELS)  # noqa: E731
    x = torch.cat([along(w), along(w), torch.zeros(BORDER_PIXELS), torch.full((BORDER_PIXELS,), w - 1.0)])
    y = torch.cat([torch.zeros(BORDER_PIXELS), torch.full((BORDER_PIXELS,), h - 1.0), along(h), along(h)])
    origins, directions = rays_from_pixels(pose, camera.fx, camera.fy, camera.cx, camera.cy, x, y,
                                           camera.distortion or None)
    o, d = to_ndc(origins, directions, ndc)
    return torch.cat([o, o + d])[:, :2]


def forward_meta(name: str, fmt: str, intrinsics: Intrinsics, bounds: np.ndarray, train_poses: torch.Tensor,
                 extra: dict, source: str, train_cameras: list[Intrinsics] | None = None) -> SceneMeta:
    """Metadata of a forward-facing scene (bounds already in the scaled frame): NDC space, its box (from each
    training camera's own intrinsics, `train_cameras`, else `intrinsics` for all), and an orbit around where the
    cameras look."""
    near, far = float(bounds.min() * 0.9), float(bounds.max())
    close, infinity = near, float(bounds.max() * 5.0)
    focus = 1.0 / ((1.0 - 0.75) / close + 0.75 / infinity)
    centre, up = (0.0, 0.0, -round(focus, 6)), (0.0, 1.0, 0.0)
    ndc = NdcSpace(intrinsics.height, intrinsics.width, intrinsics.focal, 1.0)
    box_min, box_max = ndc_box(train_poses, train_cameras or [intrinsics] * len(train_poses), ndc)
    return SceneMeta(
        name=name, format=fmt, near=near, far=far, intrinsics=intrinsics, background=(0.0, 0.0, 0.0),
        box_min=box_min, box_max=box_max, ndc=ndc.to_dict(),
        orbit_center=centre, orbit_up=up, orbit_radius=float(focus),
        **camera_angle_ranges(train_poses, centre, up, pad=2.0), source=source, extra=extra, kind="forward",
    )
