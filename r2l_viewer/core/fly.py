"""The viewer's fly camera as plain math: a position, a heading and a pitch; move along the view, look around."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from .cameras import look_at, orbit_frame

MAX_PITCH = 89.0
FAST_FACTOR = 4.0  # Shift: this many times faster
SPEED_PER_RADIUS = 0.5  # scene sizes (orbit radii) a second at the starting speed
SPEED_STEP = 1.25  # one wheel notch multiplies the speed by this


@dataclass
class FlyCamera:
    """A camera at `position` looking along (yaw, pitch) in degrees, yaw turning about `up` (0: along the orbit
    frame's +y, 90: along its +x), pitch above the plane perpendicular to `up`. No roll: the image's up stays
    towards `up`. `speed` is in scene units per second. `pinned` holds an exact pose (a dataset camera, whose roll
    the angles cannot hold) until the next move."""

    position: tuple = (0.0, -4.0, 0.0)
    yaw: float = 0.0
    pitch: float = 0.0
    up: tuple = (0.0, 0.0, 1.0)
    speed: float = 2.0
    pinned: torch.Tensor | None = field(default=None, repr=False)

    @classmethod
    def from_pose(cls, c2w: torch.Tensor, up=(0.0, 0.0, 1.0), speed: float = 2.0) -> "FlyCamera":
        """The fly camera at a camera-to-world pose [4, 4], looking the same way (its roll dropped)."""
        local = orbit_frame(torch.as_tensor(up, dtype=torch.float32)).T @ (-c2w[:3, 2].float())
        local = local / local.norm().clamp_min(1e-12)
        pitch = math.degrees(math.asin(max(-1.0, min(1.0, float(local[2])))))
        yaw = math.degrees(math.atan2(float(local[0]), float(local[1])))
        position = tuple(float(v) for v in c2w[:3, 3])
        return cls(position, yaw, max(-MAX_PITCH, min(MAX_PITCH, pitch)), tuple(float(v) for v in up), speed)

    def forward(self) -> torch.Tensor:
        """The unit view direction [3] in world coordinates."""
        yaw, pitch = math.radians(self.yaw), math.radians(self.pitch)
        local = torch.tensor([math.cos(pitch) * math.sin(yaw), math.cos(pitch) * math.cos(yaw), math.sin(pitch)])
        return orbit_frame(torch.as_tensor(self.up, dtype=torch.float32)) @ local

    def up_vector(self) -> torch.Tensor:
        up = torch.as_tensor(self.up, dtype=torch.float32)
        return up / up.norm()

    def right(self) -> torch.Tensor:
        """The unit direction to the right of the view, level (perpendicular to `up`)."""
        right = torch.linalg.cross(self.forward(), self.up_vector())
        return right / right.norm().clamp_min(1e-12)

    def c2w(self) -> torch.Tensor:
        """The camera-to-world pose [4, 4] (OpenGL axes: looking down -z)."""
        if self.pinned is not None:
            return self.pinned.clone()
        eye = torch.tensor(self.position, dtype=torch.float32)
        return look_at(eye, eye + self.forward(), self.up_vector())

    def look(self, dx_pixels: float, dy_pixels: float, degrees_per_pixel: float = 0.25) -> None:
        """Mouse drag: right turns the view right, down tilts it down (pitch within +-89 degrees)."""
        self.pinned = None
        self.yaw = (self.yaw + dx_pixels * degrees_per_pixel + 180.0) % 360.0 - 180.0
        self.pitch = max(-MAX_PITCH, min(MAX_PITCH, self.pitch - dy_pixels * degrees_per_pixel))

    def move(self, forward: float, right: float, up: float, seconds: float, fast: bool = False) -> None:
        """Keys held for `seconds`: forward along the view (-1 back), right (-1 left), up along `up` (-1 down);
        a diagonal is no faster than a straight line. `fast` (Shift) multiplies the speed by FAST_FACTOR."""
        direction = forward * self.forward() + right * self.right() + up * self.up_vector()
        length = float(direction.norm())
        if length < 1e-9 or seconds <= 0:
            return
        self.pinned = None
        distance = self.speed * (FAST_FACTOR if fast else 1.0) * seconds
        self.position = tuple(float(v) for v in torch.tensor(self.position) + direction / length * distance)

    def pan(self, dx_pixels: float, dy_pixels: float, focal_pixels: float, depth: float) -> None:
        """Right- or middle-drag: slide in the image plane so a point at `depth` follows the cursor."""
        pose = self.c2w()
        self.pinned = None
        scale = depth / max(focal_pixels, 1e-6)
        shift = (-dx_pixels * pose[:3, 0] + dy_pixels * pose[:3, 1]) * scale
        self.position = tuple(float(v) for v in torch.tensor(self.position) + shift)

    def change_speed(self, steps: float) -> None:
        """Wheel: each notch forward flies SPEED_STEP times faster, back slower."""
        self.speed *= SPEED_STEP ** steps

    def pin(self, c2w: torch.Tensor) -> None:
        """Show exactly this pose (a dataset camera); flying continues from its position and heading."""
        moved = FlyCamera.from_pose(c2w, self.up, self.speed)
        self.position, self.yaw, self.pitch = moved.position, moved.yaw, moved.pitch
        self.pinned = c2w.clone().float()

    def distance_to(self, point) -> float:
        return float((torch.tensor(self.position) - torch.as_tensor(point, dtype=torch.float32)).norm())
