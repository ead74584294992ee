"""Pinhole cameras in the OpenGL convention: intrinsics, camera-to-world poses, spherical poses and paths."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch


@dataclass(frozen=True)
class Intrinsics:
    """A pinhole camera's image size and projection, in pixels (principal point usually the image centre), and its
    lens distortion: () for none, else the OpenCV coefficients (k1, k2, k3, k4, p1, p2) of r2l_viewer.core.lens."""

    height: int
    width: int
    fx: float
    fy: float
    cx: float
    cy: float
    distortion: tuple = ()

    @classmethod
    def from_focal(cls, height: int, width: int, focal: float) -> "Intrinsics":
        """Square pixels, principal point at the image centre."""
        return cls(int(height), int(width), float(focal), float(focal), width / 2.0, height / 2.0)

    @classmethod
    def from_fov_x(cls, height: int, width: int, camera_angle_x: float) -> "Intrinsics":
        """Focal length from a horizontal field of view in radians: 0.5 * W / tan(0.5 * angle)."""
        return cls.from_focal(height, width, 0.5 * width / math.tan(0.5 * camera_angle_x))

    @property
    def focal(self) -> float:
        """The horizontal focal length in pixels."""
        return self.fx

    def resized(self, height: int, width: int) -> "Intrinsics":
        """The same field of view at another image size."""
        sy, sx = height / self.height, width / self.width
        return replace(self, height=int(height), width=int(width), fx=self.fx * sx, fy=self.fy * sy,
                       cx=self.cx * sx, cy=self.cy * sy)

    def scaled(self, factor: float) -> "Intrinsics":
        """The same field of view with both sides multiplied by `factor` (rounded, at least 1 pixel)."""
        return self.resized(max(1, round(self.height * factor)), max(1, round(self.width * factor)))

    def zoomed(self, focal_scale: float) -> "Intrinsics":
        """The same image size with the focal length multiplied (a narrower field of view when > 1)."""
        return replace(self, fx=self.fx * focal_scale, fy=self.fy * focal_scale)

    def without_distortion(self) -> "Intrinsics":
        """The same pinhole camera with an ideal lens."""
        return replace(self, distortion=())

    def to_dict(self) -> dict:
        d = {"height": self.height, "width": self.width, "fx": self.fx, "fy": self.fy, "cx": self.cx, "cy": self.cy}
        return d | ({"distortion": list(self.distortion)} if self.distortion else {})

    @classmethod
    def from_dict(cls, d: dict) -> "Intrinsics":
        distortion = tuple(float(k) for k in d.get("distortion") or ())
        return cls(int(d["height"]), int(d["width"]), float(d["fx"]), float(d["fy"]), float(d["cx"]), float(d["cy"]),
                   distortion)


def look_at(eye: torch.Tensor, target: torch.Tensor, up: torch.Tensor) -> torch.Tensor:
    """A 4x4 camera-to-world matrix for a camera at `eye` looking at `target`, +y of the image towards `up`."""
    eye, target, up = (torch.as_tensor(v, dtype=torch.float32) for v in (eye, target, up))
    back = eye - target
    back = back / back.norm().clamp_min(1e-12)
    right = torch.linalg.cross(up, back)
    if right.norm() < 1e-6:  # looking straight along `up`: any perpendicular right vector will do
        helper = torch.tensor([0.0, 1.0, 0.0]) if abs(float(up[1])) < 0.9 else torch.tensor([1.0, 0.0, 0.0])
        right = torch.linalg.cross(helper, back)
    right = right / right.norm()
    cam_up = torch.linalg.cross(back, right)
    c2w = torch.eye(4)
    c2w[:3, 0], c2w[:3, 1], c2w[:3, 2], c2w[:3, 3] = right, cam_up, back, eye
    return c2w


def orbit_frame(up: torch.Tensor) -> torch.Tensor:
    """A 3x3 rotation whose columns are (x, y, z) axes of an orbit frame with z along `up`: the identity for z up;
    for y up, the orbit's y is world +z, so forward-facing cameras (in front of their centre along +z) sit at
    azimuth 0."""
    up = torch.as_tensor(up, dtype=torch.float32)
    z = up / up.norm()
    helper = torch.tensor([0.0, 1.0, 0.0]) if abs(float(z[1])) < 0.9 else torch.tensor([0.0, 0.0, 1.0])
    x = torch.linalg.cross(helper, z)
    x = x / x.norm()
    y = torch.linalg.cross(z, x)
    return torch.stack([x, y, z], dim=1)


def spherical_pose(
    azimuth_deg: float,
    elevation_deg: float,
    radius: float,
    center=(0.0, 0.0, 0.0),
    up=(0.0, 0.0, 1.0),
) -> torch.Tensor:
    """Camera-to-world 4x4 for a camera on a sphere around `center`, looking at it, its image's up towards `up`.

    Around the origin with z up this is exactly nerf-pytorch's `pose_spherical(theta=azimuth, phi=-elevation,
    radius)`: the camera sits at radius * (cos(el) sin(az), cos(el) cos(az), sin(el)), so elevation is positive
    above the plane perpendicular to `up` and azimuth turns clockwise seen from above.
    """
    az, el = math.radians(azimuth_deg), math.radians(elevation_deg)
    local = torch.tensor([math.cos(el) * math.sin(az), math.cos(el) * math.cos(az), math.sin(el)])
    frame = orbit_frame(torch.as_tensor(up, dtype=torch.float32))
    center_t = torch.as_tensor(center, dtype=torch.float32)
    eye = center_t + radius * (frame @ local)
    return look_at(eye, center_t, frame[:, 2])


def circular_path(
    frames: int = 40,
    elevation_deg: float = 30.0,
    radius: float = 4.0,
    center=(0.0, 0.0, 0.0),
    up=(0.0, 0.0, 1.0),
) -> torch.Tensor:
    """The standard 360-degree render path: `frames` poses [F, 4, 4] evenly spaced in azimuth from -180 degrees.

    Defaults are the NeRF papers' path: nerf-pytorch's render_poses, pose_spherical(angle, -30, 4) for 40 angles
    in linspace(-180, 180, 41)[:-1].
    """
    azimuths = torch.linspace(-180.0, 180.0, frames + 1)[:-1]
    return torch.stack([spherical_pose(float(a), elevation_deg, radius, center, up) for a in azimuths])


def pose_angles(c2w: torch.Tensor, center=(0.0, 0.0, 0.0), up=(0.0, 0.0, 1.0)) -> tuple[float, float, float]:
    """Inverse of `spherical_pose` for the camera position: (azimuth_deg, elevation_deg, radius)."""
    frame = orbit_frame(torch.as_tensor(up, dtype=torch.float32))
    local = frame.T @ (c2w[:3, 3].float() - torch.as_tensor(center, dtype=torch.float32))
    radius = float(local.norm())
    elevation = math.degrees(math.atan2(float(local[2]), math.hypot(float(local[0]), float(local[1]))))
    azimuth = math.degrees(math.atan2(float(local[0]), float(local[1])))
    return azimuth, elevation, radius


def focus_point(c2ws: torch.Tensor) -> torch.Tensor:
    """The point nearest (least squares) to all cameras' optical axes: where a set of inward cameras look."""
    origins = c2ws[:, :3, 3].double()
    axes = -c2ws[:, :3, 2].double()
    axes = axes / axes.norm(dim=-1, keepdim=True)
    eye = torch.eye(3, dtype=torch.float64)
    projectors = eye[None] - axes[:, :, None] * axes[:, None, :]
    lhs = projectors.sum(0)
    rhs = (projectors @ origins[:, :, None]).sum(0)
    return torch.linalg.lstsq(lhs, rhs).solution[:, 0].float()
