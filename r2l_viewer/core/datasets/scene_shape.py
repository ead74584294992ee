"""What shape a capture is, from its cameras alone (forward-facing, all around a subject, or a partial arc around
it), and which kind of scene model that calls for: an object in a box, an unbounded scene in contracted space, or a
forward-facing scene in NDC space."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..cameras import focus_point
from .base import DatasetError

KINDS = ("object", "unbounded", "forward")
CHOICES = ("auto",) + KINDS
FORWARD_SPREAD = 30.0  # degrees: cameras whose optical axes all lie within this of their mean axis face forward
ALL_AROUND_GAP = 90.0  # degrees: cameras whose widest gap in azimuth around the subject is at most this circle it
KIND_WORDS = {
    "object": "an object in a box (nothing outside it is modelled; the background is one colour)",
    "unbounded": "an unbounded scene: the region around the cameras as it is, everything beyond squashed into a "
                 "shell (scene contraction, as in mip-NeRF 360 and nerfacto)",
    "forward": "a forward-facing scene in NDC space (as LLFF scenes are)",
}


@dataclass(frozen=True)
class CameraShape:
    """How a capture's cameras are laid out: 'forward', 'all-around' or 'arc'; the widest angle (degrees) between
    an optical axis and the mean one; the azimuth (degrees) the cameras span around the point they look at (for
    forward-facing captures: around their mean axis); and the up direction used."""

    layout: str
    spread: float
    span: float
    up: tuple

    def describe(self) -> str:
        if self.layout == "forward":
            return (f"the cameras look within {self.spread:.0f} degrees of one direction (forward-facing: at most "
                    f"{FORWARD_SPREAD:.0f})")
        if self.layout == "all-around":
            return (f"the cameras circle the point they look at ({self.span:.0f} of 360 degrees, no gap over "
                    f"{ALL_AROUND_GAP:.0f})")
        return f"the cameras cover a {self.span:.0f}-degree arc around the point they look at"


def mean_up(poses: torch.Tensor) -> torch.Tensor:
    """The cameras' mean up vector, unit length."""
    up = poses[:, :3, 1].double().mean(0)
    return (up / up.norm()).float()


def azimuth_span(offsets: torch.Tensor, up: torch.Tensor) -> float:
    """Degrees of azimuth about `up` that directions [N, 3] cover: the circle less its widest gap."""
    up = up / up.norm()
    flat = offsets - (offsets @ up)[:, None] * up
    helper = torch.tensor([1.0, 0.0, 0.0]) if abs(float(up[0])) < 0.9 else torch.tensor([0.0, 1.0, 0.0])
    east = torch.linalg.cross(up, helper)
    east = east / east.norm()
    north = torch.linalg.cross(up, east)
    angles = sorted(math.degrees(math.atan2(float(p @ east), float(p @ north))) for p in flat)
    if len(angles) < 2:
        return 0.0
    gaps = [(angles[(i + 1) % len(angles)] - angles[i]) % 360.0 for i in range(len(angles))]
    return 360.0 - max(gaps)


def camera_shape(poses: torch.Tensor) -> CameraShape:
    """The layout of camera-to-world poses [N, 4, 4] (OpenGL axes)."""
    axes = -poses[:, :3, 2].float()
    axes = axes / axes.norm(dim=-1, keepdim=True)
    mean = axes.mean(0)
    mean = mean / mean.norm()
    spread = float(torch.rad2deg(torch.arccos((axes @ mean).clamp(-1.0, 1.0))).max())
    up = mean_up(poses)
    if spread <= FORWARD_SPREAD:
        return CameraShape("forward", spread, azimuth_span(axes, mean), tuple(up.tolist()))
    span = azimuth_span(poses[:, :3, 3].float() - focus_point(poses), up)
    layout = "all-around" if span >= 360.0 - ALL_AROUND_GAP else "arc"
    return CameraShape(layout, spread, span, tuple(up.tolist()))


def choose_kind(shape: CameraShape, cut_out: bool, override: str = "auto") -> tuple[str, str]:
    """The scene kind for a capture and why: forward-facing cameras take NDC space; cameras around a subject take
    a box when the images are cut out (alpha), else contracted space for the background they show. `override`
    ('object', 'unbounded', 'forward') wins."""
    if override not in CHOICES:
        raise DatasetError(f"scene kind {override!r} is not one of {', '.join(CHOICES)}")
    if override != "auto":
        return override, f"{shape.describe()}; chosen by --scene-kind {override}"
    if shape.layout == "forward":
        return "forward", shape.describe()
    if cut_out:
        return "object", f"{shape.describe()}, and the images are cut out (alpha): nothing outside the object"
    return "unbounded", f"{shape.describe()}, and the photos show what lies around and behind the subject"
