"""The viewer's camera as plain math: orbit around a centre, pan, zoom, reset, and snapping to dataset cameras."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import torch

from .cameras import pose_angles, spherical_pose
from .datasets.base import SceneMeta

MAX_ELEVATION = 89.0
FREE_RADII = (0.15, 4.0)  # distances a camera without a light field's limits may take, times the orbit radius
CAPTURE_RADII = (0.4, 1.5)  # the same in an unbounded capture: beyond its cameras nothing was seen up close
HOME_AZIMUTH = -180.0  # 360-degree scenes open where the standard 360 path starts (NeRF's first render pose)


def _clamp(value: float, lo: float, hi: float) -> float:
    return min(max(value, lo), hi)


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
    focal_scale: float = 1.0  # the zoom, as a multiple of the scene's focal length
    focal_limits: tuple | None = None  # when set, the wheel zooms with the focal length first (see `within`)
    limit: str = ""  # what the last move ran into ('' when nothing): for a note in the view
    pinned: torch.Tensor | None = None
    home: dict = field(default_factory=dict, repr=False)
    free_limits: tuple = field(default=(), repr=False)  # (min_radius, max_radius, elevation_limits) without views

    def __post_init__(self):
        if not self.free_limits:
            self.free_limits = (self.min_radius, self.max_radius, self.elevation_limits)
        if not self.home:
            self.home = {k: getattr(self, k) for k in ("center", "azimuth", "elevation", "radius", "focal_scale")}

    @classmethod
    def for_scene(cls, meta: SceneMeta) -> "OrbitCamera":
        """A camera on the scene's orbit, in the middle of its training cameras' elevations. Forward-facing scenes
        (a narrow azimuth range) keep to the range their cameras cover, with some margin; unbounded captures keep
        to their cameras' elevations (and arc), and to distances near theirs (the background was seen from there
        only)."""
        lo, hi = meta.elevation_range
        az_lo, az_hi = meta.azimuth_range
        unbounded = meta.contraction is not None
        forward_facing = az_hi - az_lo < 180.0
        arc = forward_facing or (unbounded and az_hi - az_lo < 360.0)  # the views stay where the cameras were
        margin = 10.0
        radii = CAPTURE_RADII if unbounded else FREE_RADII
        return cls(
            center=tuple(meta.orbit_center), up=tuple(meta.orbit_up),
            azimuth=(az_lo + az_hi) / 2 if arc else HOME_AZIMUTH,
            elevation=float(min(max((lo + hi) / 2, -MAX_ELEVATION), MAX_ELEVATION)),
            radius=meta.orbit_radius, min_radius=radii[0] * meta.orbit_radius,
            max_radius=radii[1] * meta.orbit_radius,
            azimuth_limits=(az_lo - margin, az_hi + margin) if arc else None,
            elevation_limits=(max(lo - margin, -MAX_ELEVATION), min(hi + margin, MAX_ELEVATION))
            if forward_facing or unbounded else (-MAX_ELEVATION, MAX_ELEVATION),
        )

    def within(self, views: dict | None) -> None:
        """Keep to the views a light field was trained on (`views`: {'radius': (lo, hi), 'focal_scale': (lo, hi),
        'elevation': (lo, hi)}, as the distill job records them; None: the free limits again). Zoom then works as
        those views were made, with the focal length (and the distance only within its range); the view now shown
        and the home view are brought inside."""
        if views is None:
            self.focal_limits = None
            self.min_radius, self.max_radius, self.elevation_limits = self.free_limits
            return
        self.min_radius, self.max_radius = (float(r) for r in views["radius"])
        self.focal_limits = tuple(float(f) for f in views["focal_scale"])
        lo, hi = views["elevation"]
        self.elevation_limits = (max(float(lo), -MAX_ELEVATION), min(float(hi), MAX_ELEVATION))
        for place in (self.home, self.__dict__):
            place["radius"] = _clamp(place["radius"], self.min_radius, self.max_radius)
            place["focal_scale"] = _clamp(place["focal_scale"], *self.focal_limits)
            place["elevation"] = _clamp(place["elevation"], *self.elevation_limits)

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
        wanted = self.elevation + dy_pixels * degrees_per_pixel
        self.elevation = min(max(wanted, lo), hi)
        self.limit = "elevation" if wanted != self.elevation else ""

    def pan(self, dx_pixels: float, dy_pixels: float, focal_pixels: float) -> None:
        """Drag with the right or middle button: the scene follows the cursor (at the depth of the centre)."""
        pose = self.c2w()
        self._unpin()
        scale = self.radius / max(focal_pixels, 1e-6)
        shift = (-dx_pixels * pose[:3, 0] + dy_pixels * pose[:3, 1]) * scale
        self.center = tuple(float(c) for c in torch.tensor(self.center) + shift)

    def zoom(self, steps: float, factor: float = 0.9) -> None:
        """Wheel: each step forward enlarges the view by 1 / `factor`: with the focal length within its limits
        (when set), then by bringing the camera closer within its distance limits."""
        self._unpin()
        grow = factor ** -steps
        if self.focal_limits is not None:
            wanted = self.focal_scale * grow
            self.focal_scale = min(max(wanted, self.focal_limits[0]), self.focal_limits[1])
            grow = wanted / self.focal_scale
        wanted = self.radius / grow
        self.radius = min(max(wanted, self.min_radius), self.max_radius)
        self.limit = "zoom" if abs(wanted - self.radius) > 1e-9 * self.radius else ""

    def reset(self) -> None:
        """Back to the starting view."""
        self._unpin()
        for key, value in self.home.items():
            setattr(self, key, value)

    def snap_to(self, c2w: torch.Tensor) -> None:
        """Show exactly this pose (a dataset camera); the orbit continues from its angles and distance."""
        azimuth, elevation, radius = pose_angles(c2w, self.center, self.up)
        self.azimuth, self.elevation, self.focal_scale, self.limit = azimuth, elevation, 1.0, ""
        self.radius = min(max(radius, self.min_radius), self.max_radius)
        self.pinned = c2w.clone().float()

    def state(self) -> tuple:
        """A value that changes whenever the view does (for 'has the camera moved' checks)."""
        pinned = None if self.pinned is None else tuple(self.pinned.flatten().tolist())
        return (self.center, self.azimuth, self.elevation, self.radius, self.focal_scale, pinned)

    def copy(self) -> "OrbitCamera":
        return dataclasses.replace(self, pinned=None if self.pinned is None else self.pinned.clone(), home=dict(self.home))
