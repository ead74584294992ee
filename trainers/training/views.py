"""Sets of posed views that training draws random rays from: real images, pseudo-data shards, an online buffer."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np
import torch

from r2l_viewer.core.cameras import spherical_pose
from r2l_viewer.core.datasets import SceneMeta, Split
from r2l_viewer.core.rays import rays_from_pixels


@dataclass
class RayBatch:
    """Rays [n, 3] and their target colours [n, 3]."""

    origins: torch.Tensor
    directions: torch.Tensor
    rgb: torch.Tensor

    def to(self, device) -> "RayBatch":
        return RayBatch(*(t.to(device, non_blocking=True) for t in (self.origins, self.directions, self.rgb)))

    def __len__(self) -> int:
        return self.origins.shape[0]

    @staticmethod
    def cat(batches: list["RayBatch"]) -> "RayBatch":
        return RayBatch(*(torch.cat([getattr(b, k) for b in batches]) for k in ("origins", "directions", "rgb")))

    def select(self, index: torch.Tensor) -> "RayBatch":
        return RayBatch(self.origins[index], self.directions[index], self.rgb[index])


class ViewSet(ABC):
    """Posed views of one size: poses [N, 4, 4], focal lengths [N] (principal point at the centre), colours."""

    height: int
    width: int
    poses: torch.Tensor
    focals: torch.Tensor

    def __len__(self) -> int:
        return self.poses.shape[0]

    @abstractmethod
    def colours(self, image: torch.Tensor, y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Colours [n, 3] (float in [0, 1]) of pixels (image, y, x)."""

    def rays(self, image: torch.Tensor, y: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Origins and directions [n, 3] of pixels (image, y, x): square pixels, principal point at the centre."""
        focal = self.focals[image]
        return rays_from_pixels(self.poses[image], focal, focal, self.width / 2.0, self.height / 2.0, x, y)

    def sample(self, n: int, generator: torch.Generator) -> RayBatch:
        """n rays through random pixels of random views, with their colours."""
        pixels = self.height * self.width
        flat = torch.randint(0, len(self) * pixels, (n,), generator=generator)
        image, rest = flat // pixels, flat % pixels
        y, x = rest // self.width, rest % self.width
        return RayBatch(*self.rays(image, y, x), self.colours(image, y, x))


class SplitViews(ViewSet):
    """A dataset split's real images, each seen through its own camera (focal lengths, principal point, lens)."""

    def __init__(self, split: Split):
        self.images = split.images
        self.poses = split.poses.float()
        self.height, self.width = split.intrinsics.height, split.intrinsics.width
        cameras = split.cameras()
        self.focals = torch.tensor([c.fx for c in cameras], dtype=torch.float32)
        self.pinholes = torch.tensor([[c.fx, c.fy, c.cx, c.cy] for c in cameras], dtype=torch.float32)
        lenses = [c.distortion or (0.0,) * 6 for c in cameras]
        self.distortion = torch.tensor(lenses, dtype=torch.float32) if any(c.distortion for c in cameras) else None

    def rays(self, image, y, x):
        fx, fy, cx, cy = self.pinholes[image].unbind(-1)
        lens = None if self.distortion is None else self.distortion[image]
        return rays_from_pixels(self.poses[image], fx, fy, cx, cy, x, y, lens)

    def colours(self, image, y, x):
        return self.images[image, y, x]


class ArrayViews(ViewSet):
    """Views whose colours are uint8 arrays [N, H, W, 3]: memory-mapped shards or an in-memory buffer."""

    def __init__(self, rgb: np.ndarray | torch.Tensor, poses: torch.Tensor, focals: torch.Tensor):
        self.rgb = rgb
        self.poses, self.focals = poses.float(), focals.float()
        self.height, self.width = rgb.shape[1], rgb.shape[2]

    def colours(self, image, y, x):
        if isinstance(self.rgb, torch.Tensor):
            values = self.rgb[image, y, x]
        else:
            values = torch.from_numpy(np.asarray(self.rgb[image.numpy(), y.numpy(), x.numpy()]))
        return values.float() / 255.0


class ConcatViews(ViewSet):
    """Several view sets of one size as one (e.g. all shards of a pseudo dataset)."""

    def __init__(self, parts: list[ViewSet]):
        self.parts = parts
        self.height, self.width = parts[0].height, parts[0].width
        self.poses = torch.cat([p.poses for p in parts])
        self.focals = torch.cat([p.focals for p in parts])
        self.starts = torch.tensor(np.cumsum([0] + [len(p) for p in parts]))

    def colours(self, image, y, x):
        out = torch.empty(image.shape[0], 3)
        part = torch.bucketize(image, self.starts[1:], right=True)
        for k in part.unique().tolist():
            sel = part == k
            out[sel] = self.parts[k].colours(image[sel] - self.starts[k], y[sel], x[sel])
        return out


def pseudo_pose(meta: SceneMeta, generator: torch.Generator, elevation=None, radius_scale=(1.0, 1.0)) -> torch.Tensor:
    """A random camera as in the R2L paper: azimuth uniform over the scene's range (all round for 360-degree
    scenes), elevation uniform over the training cameras' range (or `elevation`), distance the training cameras'
    radius times U(radius_scale), looking at the orbit centre."""
    lo, hi = elevation if elevation is not None else meta.elevation_range
    az_lo, az_hi = meta.azimuth_range
    u = torch.rand(3, generator=generator).tolist()
    azimuth = az_lo + (az_hi - az_lo) * u[0]
    elev = lo + (hi - lo) * u[1]
    radius = meta.orbit_radius * (radius_scale[0] + (radius_scale[1] - radius_scale[0]) * u[2])
    return spherical_pose(azimuth, elev, radius, meta.orbit_center, meta.orbit_up)


def pseudo_focal(base_focal: float, generator: torch.Generator, focal_scale=(1.0, 2.0)) -> float:
    """The training focal length times U[focal_scale): zoomed-in views show the student finer detail."""
    u = float(torch.rand(1, generator=generator))
    return base_focal * (focal_scale[0] + (focal_scale[1] - focal_scale[0]) * u)


def view_ranges(meta: SceneMeta, pseudo: dict) -> dict:
    """The range of views a student learns from pseudo data made with `pseudo` (a PseudoConfig as a dict): camera
    distances, focal-length multiples and elevations. Recorded with the student, the viewer keeps its camera there."""
    elevation = pseudo.get("elevation") or meta.elevation_range
    return {"radius": [round(meta.orbit_radius * float(s), 6) for s in pseudo.get("radius_scale", (1.0, 1.0))],
            "focal_scale": [float(s) for s in pseudo.get("focal_scale", (1.0, 2.0))],
            "elevation": [float(e) for e in elevation]}
