"""Scene contraction for unbounded captures, and where points go along a ray through the contracted scene.

As in mip-NeRF 360 and nerfacto (their max-norm variant): a point u in the capture's unit region (the cube of half
side `radius` around `center`, which holds every camera) stays where it is; a point outside goes to
(2 - 1/|u|) u/|u| with |u| the max-norm, so all of space fits the cube [-2, 2]^3 and the far background sits in
the shell between the cubes of side 2 and 4. Equal steps along the contracted path are equal steps in distance
near the cameras and equal steps in disparity (1/distance) far from them.

Along a ray the contracted path is measured through guide points (evenly spaced in distance to the edge of the unit
region, evenly in disparity beyond it); points are then placed at chosen path lengths by interpolating the guide
index, counting (not searching) so that the same arithmetic exports to ONNX."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .rays import intersect_aabb

OUTER = 2.0  # contracted space is the cube [-OUTER, OUTER]^3
DEPTH_SPAN = 8.0  # no path through contracted space is longer than this many radii (depth's far bound)
LINEAR_GUIDES = 16  # guide points from the ray's start to where it leaves the unit region
OUTER_GUIDES = 48  # guide points beyond it, evenly in disparity
FARTHEST = 1e4  # the last guide point, as a multiple of the distance where the ray leaves the unit region


@dataclass(frozen=True)
class ContractedSpace:
    """The unit region of an unbounded scene: the cube of half side `radius` (scene units) around `center`."""

    center: tuple
    radius: float

    def to_dict(self) -> dict:
        return {"center": [float(c) for c in self.center], "radius": float(self.radius)}

    @classmethod
    def from_dict(cls, d: dict) -> "ContractedSpace":
        return cls(tuple(float(c) for c in d["center"]), float(d["radius"]))

    @property
    def depth_far(self) -> float:
        """Depth's far bound in scene units (see `ContractedRays.length`)."""
        return DEPTH_SPAN * self.radius


def contract(u: torch.Tensor) -> torch.Tensor:
    """Unit-region coordinates [..., 3] to contracted ones: unchanged inside the unit cube, squashed into the shell
    up to the cube of side 4 outside (max-norm contraction). Continuous, and the identity at the cube's surface."""
    norm = u.abs().amax(-1, keepdim=True)
    outside = norm.clamp_min(1.0)
    return u * ((OUTER - 1.0 / outside) / outside)


class ContractedRays:
    """Rays [N, 3] through a ContractedSpace, with their contracted paths measured; `at(lengths)` gives the ray
    parameter t [N, K] (in the rays' own units) where the path has the given lengths (contracted unit-region
    units), `points(t)` the contracted points [N, K, 3]."""

    def __init__(self, space: ContractedSpace, origins: torch.Tensor, directions: torch.Tensor):
        self.center = torch.tensor(space.center, dtype=origins.dtype, device=origins.device)
        self.radius = space.radius
        self.origins = (origins - self.center) / self.radius  # unit-region coordinates
        self.directions = directions / self.radius
        self.edge = self._leaving_unit_region()
        guides = self.guide_t(torch.arange(LINEAR_GUIDES + OUTER_GUIDES, dtype=origins.dtype,
                                           device=origins.device).expand(origins.shape[0], -1))
        contracted = self.points(guides)
        steps = (contracted[:, 1:] - contracted[:, :-1]).norm(dim=-1)
        self.guide_lengths = torch.cat([torch.zeros_like(steps[:, :1]), steps.cumsum(-1)], dim=-1)  # [N, G]

    def _leaving_unit_region(self) -> torch.Tensor:
        """The ray parameter [N] where each ray leaves the unit cube (a ray starting outside it that never enters:
        the distance of one radius, so that its guide points still spread in disparity)."""
        lo = torch.full((3,), -1.0, dtype=self.origins.dtype, device=self.origins.device)
        enter, leave = intersect_aabb(self.origins, self.directions, lo, -lo)
        one_radius = 1.0 / self.directions.norm(dim=-1)
        return torch.where(leave > enter.clamp_min(0.0), leave.clamp_min(0.0), one_radius).clamp_min(1e-3 * one_radius)

    def guide_t(self, index: torch.Tensor) -> torch.Tensor:
        """The ray parameter at fractional guide indices [N, K]: linear from 0 to the unit region's edge over the
        first LINEAR_GUIDES, then evenly in disparity out to FARTHEST times that distance."""
        edge = self.edge[:, None]
        inner = index / LINEAR_GUIDES * edge
        beyond = ((index - LINEAR_GUIDES) / (OUTER_GUIDES - 1)).clamp(0.0, 1.0)
        outer = edge / (1.0 - beyond * (1.0 - 1.0 / FARTHEST))
        return torch.where(index < LINEAR_GUIDES, inner, outer)

    def points(self, t: torch.Tensor) -> torch.Tensor:
        """Contracted points [N, K, 3] at ray parameters t [N, K]."""
        return contract(self.origins[:, None, :] + t[..., None] * self.directions[:, None, :])

    @property
    def length(self) -> torch.Tensor:
        """Each ray's whole contracted path length [N] (in radii; never more than DEPTH_SPAN)."""
        return self.guide_lengths[:, -1]

    def at(self, lengths: torch.Tensor) -> torch.Tensor:
        """Ray parameters t [N, K] where the contracted path has `lengths` [N, K], interpolated between guides."""
        guide = self.guide_lengths
        if torch.onnx.is_in_onnx_export():
            count = (guide[:, None, :] <= lengths[..., None]).sum(-1)  # guides at or before each length
        else:  # the same count, found by bisection
            count = torch.searchsorted(guide, lengths.contiguous(), right=True)
        below = (count - 1).clamp(0, guide.shape[1] - 2)
        lo, hi = guide.gather(1, below), guide.gather(1, below + 1)
        frac = ((lengths - lo) / (hi - lo).clamp_min(1e-12)).clamp(0.0, 1.0)
        return self.guide_t(below.to(lengths.dtype) + frac)
