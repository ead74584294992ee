"""Sets of posed views that training draws random rays from (real images, pseudo-data shards, an online buffer),
and the teacher's random pseudo views themselves."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np
import torch

from r2l_viewer.core.cameras import Intrinsics, spherical_pose
from r2l_viewer.core.datasets import SceneMeta, Split
from r2l_viewer.core.errors import UserError
from r2l_viewer.core.rays import PIXEL_CENTRE, rays_from_pixels
from r2l_viewer.core.render import StopFlag, render_image

from trainers.configs import PseudoConfig


FIELDS = ("origins", "directions", "rgb", "depth", "image")


@dataclass
class RayBatch:
    """Rays [n, 3], their target colours [n, 3], when asked for their target depths [n] (the teacher's), and the
    index [n] of the view each ray comes from (for per-image appearance codes)."""

    origins: torch.Tensor
    directions: torch.Tensor
    rgb: torch.Tensor
    depth: torch.Tensor | None = None
    image: torch.Tensor | None = None

    def _apply(self, change) -> "RayBatch":
        return RayBatch(*(None if getattr(self, k) is None else change(getattr(self, k)) for k in FIELDS))

    def to(self, device) -> "RayBatch":
        return self._apply(lambda t: t.to(device, non_blocking=True))

    def __len__(self) -> int:
        return self.origins.shape[0]

    @staticmethod
    def cat(batches: list["RayBatch"]) -> "RayBatch":
        """One batch of all; depth (and the view index) is kept only when every batch has it."""
        kept = [None if any(getattr(b, k) is None for b in batches) else torch.cat([getattr(b, k) for b in batches])
                for k in FIELDS[3:]]
        return RayBatch(*(torch.cat([getattr(b, k) for b in batches]) for k in FIELDS[:3]), *kept)

    def select(self, index) -> "RayBatch":
        return self._apply(lambda t: t[index])


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

    def depths(self, image: torch.Tensor, y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """The teacher's depths [n] (float32) of pixels (image, y, x), for views that hold them (a ValueError for
        views without depth maps: a depth loss needs pseudo data or given teacher depths)."""
        raise UserError(f"{type(self).__name__}: these views hold no depth maps to train depth on")

    def rays(self, image: torch.Tensor, y: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Origins and directions [n, 3] of pixels (image, y, x): square pixels, principal point at the centre."""
        focal = self.focals[image]
        return rays_from_pixels(self.poses[image], focal, focal, self.width / 2.0, self.height / 2.0, x, y)

    def sample(self, n: int, generator: torch.Generator, depth: bool = False) -> RayBatch:
        """n rays through random pixels of random views, with their colours (and depths when `depth`)."""
        pixels = self.height * self.width
        flat = torch.randint(0, len(self) * pixels, (n,), generator=generator)
        image, rest = flat // pixels, flat % pixels
        y, x = rest // self.width, rest % self.width
        return RayBatch(*self.rays(image, y, x), self.colours(image, y, x),
                        self.depths(image, y, x) if depth else None, image)


class SplitViews(ViewSet):
    """A dataset split's real images, each seen through its own camera (focal lengths, principal point, lens); real
    images have no depth, but a teacher's depth maps [N, H, W] of the same views can be given (`depth_maps`)."""

    def __init__(self, split: Split):
        self.images = split.images
        self.depth_maps: torch.Tensor | None = None
        self.poses = split.poses.float()
        self.height, self.width = split.intrinsics.height, split.intrinsics.width
        cameras = split.cameras()
        self.focals = torch.tensor([c.fx for c in cameras], dtype=torch.float32)
        self.pinholes = torch.tensor([[c.fx, c.fy, c.cx, c.cy] for c in cameras], dtype=torch.float32)
        lenses = [c.distortion or (0.0,) * 6 for c in cameras]
        self.distortion = torch.tensor(lenses, dtype=torch.float32) if any(c.distortion for c in cameras) else None

    def rays(self, image, y, x, pixel_offset: float = PIXEL_CENTRE):
        fx, fy, cx, cy = self.pinholes[image].unbind(-1)
        lens = None if self.distortion is None else self.distortion[image]
        return rays_from_pixels(self.poses[image], fx, fy, cx, cy, x, y, lens, pixel_offset)

    def colours(self, image, y, x):
        return self.images[image, y, x]

    def depths(self, image, y, x):
        if self.depth_maps is None:
            return super().depths(image, y, x)
        return self.depth_maps[image, y, x].float()

    def pixel_rays(self, image: int, pixel_offset: float = PIXEL_CENTRE) -> tuple[torch.Tensor, torch.Tensor]:
        """Origins and directions [H * W, 3] of every pixel of one view, row by row, as `sample` makes them (through
        each pixel's centre, or where `pixel_offset` says: a teacher's own convention)."""
        y, x = torch.meshgrid(torch.arange(self.height), torch.arange(self.width), indexing="ij")
        return self.rays(torch.full((self.height * self.width,), image), y.reshape(-1), x.reshape(-1), pixel_offset)


def pick(array: np.ndarray | torch.Tensor, image, y, x) -> torch.Tensor:
    """array[image, y, x] as a tensor, from a tensor or a (memory-mapped) numpy array."""
    if isinstance(array, torch.Tensor):
        return array[image, y, x]
    return torch.from_numpy(np.asarray(array[image.numpy(), y.numpy(), x.numpy()]))


class ArrayViews(ViewSet):
    """Views whose colours are uint8 arrays [N, H, W, 3] and depths float16 arrays [N, H, W] (optional):
    memory-mapped shards or an in-memory buffer."""

    def __init__(self, rgb: np.ndarray | torch.Tensor, poses: torch.Tensor, focals: torch.Tensor,
                 depth: np.ndarray | torch.Tensor | None = None):
        self.rgb, self.depth = rgb, depth
        self.poses, self.focals = poses.float(), focals.float()
        self.height, self.width = rgb.shape[1], rgb.shape[2]

    def colours(self, image, y, x):
        return pick(self.rgb, image, y, x).float() / 255.0

    def depths(self, image, y, x):
        if self.depth is None:
            return super().depths(image, y, x)
        return pick(self.depth, image, y, x).float()


class ConcatViews(ViewSet):
    """Several view sets of one size as one (e.g. all shards of a pseudo dataset)."""

    def __init__(self, parts: list[ViewSet]):
        self.parts = parts
        self.height, self.width = parts[0].height, parts[0].width
        self.poses = torch.cat([p.poses for p in parts])
        self.focals = torch.cat([p.focals for p in parts])
        self.starts = torch.tensor(np.cumsum([0] + [len(p) for p in parts]))

    def colours(self, image, y, x):
        return self._gather("colours", torch.empty(image.shape[0], 3), image, y, x)

    def depths(self, image, y, x):
        return self._gather("depths", torch.empty(image.shape[0]), image, y, x)

    def _gather(self, what: str, out: torch.Tensor, image, y, x) -> torch.Tensor:
        part = torch.bucketize(image, self.starts[1:], right=True)
        for k in part.unique().tolist():
            sel = part == k
            out[sel] = getattr(self.parts[k], what)(image[sel] - self.starts[k], y[sel], x[sel])
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


def view_generator(seed: int, index: int) -> torch.Generator:
    """The random stream of pseudo view `index`: each view is reproducible on its own, so resuming is exact."""
    return torch.Generator().manual_seed(seed * 1_000_003 + index)


def render_pseudo_view(teacher, meta, config: PseudoConfig, seed: int, index: int, stop: StopFlag = None,
                       chunk: int | None = None):
    """One pseudo view: (rgb [H, W, 3], depth [H, W], pose [4, 4], focal) rendered by the teacher; stops between
    chunks of `chunk` rays (default: config.render_chunk) when `stop` is set (RenderInterrupted)."""
    gen = view_generator(seed, index)
    pose = pseudo_pose(meta, gen, config.elevation, config.radius_scale)
    base = meta.intrinsics
    focal = pseudo_focal(base.fx, gen, config.focal_scale)
    chunk = config.render_chunk if chunk is None else chunk
    camera = Intrinsics.from_focal(base.height, base.width, focal)  # the ideal camera ViewSet rays assume
    out = render_image(teacher, pose.to(next(teacher.parameters()).device), camera, chunk, stop=stop)
    depth = out.depth if out.depth is not None else torch.zeros(out.rgb.shape[:2])
    return out.rgb, depth, pose, focal


def validation_views(split, count: int) -> list[int]:
    """`count` view indices spread evenly over a split."""
    n = len(split)
    count = max(1, min(count, n))
    return sorted({round(i * (n - 1) / max(count - 1, 1)) for i in range(count)})
