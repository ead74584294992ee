"""The viewer's camera as plain math: orbit around a centre, pan, zoom, reset, and snapping to dataset cameras."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import torch

from .cameras import pose_angles, spherical_pose
from .datasets.base import SceneMeta

MAX_ELEVATION = 89.0
HOME_AZIMUTH = -180.0  # 360-degree scenes open where the standard 360 path starts (NeRF's first render pose)


@dataclass
class OrbitCamera:
    """Azimuth, elevation (degrees) and distance around `center`, z of the orbit along `up`.

    `pinned` holds an exact camera-to-world pose (a dataset camera) until the next move."""

    center: tuple = (0.0, 0.0, 0.0)
    up: tuple = (0.0, 0.0, 1.0)
    azimuth: float = 0.0
    elevation: float = 30.0
    radius: float = 4.0
    min_radius: float = 0.5
    max_radius: float = 20.0
    azimuth_limits: tuple | None = None
    elevation_limits: tuple = (-MAX_ELEVATION, MAX_ELEVATION)
    pinned: torch.Tensor | None = None
    home: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        if not self.home:
            self.home = {k: getattr(self, k) for k in ("center", "azimuth", "elevation", "radius")}

    @classmethod
    def for_scene(cls, meta: SceneMeta) -> "OrbitCamera":
        """A camera on the scene's orbit, in the middle of its training cameras' elevations. Forward-facing scenes
        (a narrow azimuth range) keep to the range their cameras cover, with some margin."""
        lo, hi = meta.elevation_range
        az_lo, az_hi = meta.azimuth_range
        forward_facing = az_hi - az_lo < 180.0
        margin = 10.0
        return cls(
            center=tuple(meta.orbit_center), up=tuple(meta.orbit_up),
            azimuth=(az_lo + az_hi) / 2 if forward_facing else HOME_AZIMUTH,
            elevation=float(min(max((lo + hi) / 2, -MAX_ELEVATION), MAX_ELEVATION)),
            radius=meta.orbit_radius, min_radius=0.15 * meta.orbit_radius, max_radius=4.0 * meta.orbit_radius,
            azimuth_limits=(az_lo - margin, az_hi + margin) if forward_facing else None,
            elevation_limits=(max(lo - margin, -MAX_ELEVATION), min(hi + margin, MAX_ELEVATION))
            if forward_facing else (-MAX_ELEVATION, MAX_ELEVATION),
        )

    def c2w(self) -> torch.Tensor:
        """The camera-to-world pose [4, 4]."""
        if self.pinned is not None:
            return self.pinned.clone()
        return spherical_pose(self.azimuth, self.elevation, self.radius, self.center, self.up)

    def _unpin(self) -> None:
        self.pinned = None

    def orbit(self, dx_pixels: float, dy_pixels: float, degrees_per_pixel: float = 0.4) -> None:
        """Drag: right turns the scene to the right (the camera goes left, which is towards larger azimuth), down
        tilts the view to look from above."""
        self._unpin()
        self.azimuth = self.azimuth + dx_pixels * degrees_per_pixel
        if self.azimuth_limits is None:
            self.azimuth = (self.azimuth + 180.0) % 360.0 - 180.0
        else:
            self.azimuth = min(max(self.azimuth, self.azimuth_limits[0]), self.azimuth_limits[1])
        lo, hi = self.elevation_limits
        self.elevation = min(max(self.elevation + dy_pixels * degrees_per_pixel, lo), hi)

    def pan(self, dx_pixels: float, dy_pixels: float, focal_pixels: float) -> None:
        """Drag with the right or middle button: the scene follows the cursor (at the depth of the centre)."""
        pose = self.c2w()
        self._unpin()
        scale = self.radius / max(focal_pixels, 1e-6)
        shift = (-dx_pixels * pose[:3, 0] + dy_pixels * pose[:3, 1]) * scale
        self.center = tuple(float(c) for c in torch.tensor(self.center) + shift)

    def zoom(self, steps: float, factor: float = 0.9) -> None:
        """Wheel: each step forward brings the camera `factor` closer."""
        self._unpin()
        self.radius = min(max(self.radius * factor**steps, self.min_radius), self.max_radius)

    def reset(self) -> None:
        """Back to the starting view."""
        self._unpin()
        for key, value in self.home.items():
            setattr(self, key, value)

    def snap_to(self, c2w: torch.Tensor) -> None:
        """Show exactly this pose (a dataset camera); the orbit continues from its angles and distance."""
        azimuth, elevation, radius = pose_angles(c2w, self.center, self.up)
        self.azimuth, self.elevation = azimuth, elevation
        self.radius = min(max(radius, self.min_radius), self.max_radius)
        self.pinned = c2w.clone().float()

    def state(self) -> tuple:
        """A value that changes whenever the view does (for 'has the camera moved' checks)."""
        pinned = None if self.pinned is None else tuple(self.pinned.flatten().tolist())
        return (self.center, self.azimuth, self.elevation, self.radius, pinned)

    def copy(self) -> "OrbitCamera":
        return dataclasses.replace(self, pinned=None if self.pinned is None else self.pinned.clone(), home=dict(self.home))
