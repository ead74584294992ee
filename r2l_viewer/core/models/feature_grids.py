"""Learned ray encoding for the student: feature planes (and optional volumes) over the scene box, read at a ray's points.

Each level is either three axis-aligned planes (xy, xz, yz) of `channels` features at `R x R` texels, read
bilinearly, or a dense `R^3` volume read trilinearly. A point's encoding is every level's features concatenated:
`channels * (3 * planes + volumes)` values, or with `combine="product"` (K-Planes, TensoRF) each plane level's three
reads multiplied elementwise: `channels * (planes + volumes)` values, a narrower head input. Planes give fine
resolution for little memory (3 R^2 instead of R^3) and read fast on a CPU (PyTorch's 2D grid_sample is
vectorised; its 3D one runs on one thread), which is why the presets use planes only;
volumes stay available (docs/BENCHMARKS.md, "The learned ray encoding", says why).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import UserError

INIT_STD = 0.1  # features start as small noise, so every texel gets a gradient from the first step


PLANE_AXES = ((0, 1), (0, 2), (1, 2))  # the coordinates each feature plane is read at: xy, xz, yz
COMBINES = ("concat", "product")  # a plane level's three reads side by side (3C values) or multiplied (C values)


def features_per_point(planes: int, volumes: int, channels: int, combine: str = "concat") -> int:
    """Values that encode one point: `channels` per plane (concat) or per plane level (product), and per volume."""
    per_level = 3 if combine == "concat" else 1
    return channels * (per_level * planes + volumes)


def plane_coordinates(unit: torch.Tensor) -> torch.Tensor:
    """Points [..., 3] in [-1, 1]^3 as (x, y), (x, z), (y, z) pairs [3, ..., 2], one batch entry per plane;
    contiguous, as grid_sample reads it fastest."""
    coords = torch.empty(3, *unit.shape[:-1], 2, dtype=unit.dtype, device=unit.device)
    for plane, axes in enumerate(PLANE_AXES):
        for slot, axis in enumerate(axes):
            coords[plane, ..., slot] = unit[..., axis]
    return coords


class FeatureGrids(nn.Module):
    """Multi-resolution learned features; `forward(unit)` maps points [M, 3] in [-1, 1]^3 to features
    [M, features_per_point]. Points outside the cube read zeros."""

    def __init__(self, planes: tuple, volumes: tuple, channels: int, combine: str = "concat"):
        super().__init__()
        if combine not in COMBINES:
            raise UserError(f"unknown plane combination {combine!r}; expected one of {', '.join(COMBINES)}")
        self.channels, self.combine = channels, combine
        start = 1.0 if combine == "product" else 0.0  # products of noise around 1, not of noise around 0
        self.planes = nn.ParameterList(
            [nn.Parameter(start + torch.randn(3, channels, int(r), int(r)) * INIT_STD) for r in planes])
        self.volumes = nn.ParameterList(
            [nn.Parameter(torch.randn(1, channels, int(r), int(r), int(r)) * INIT_STD) for r in volumes])

    @property
    def features_per_point(self) -> int:
        return features_per_point(len(self.planes), len(self.volumes), self.channels, self.combine)

    def forward(self, unit: torch.Tensor) -> torch.Tensor:
        """Features [M, F]: each plane level's xy, xz, yz features (or their product), then each volume's,
        `channels` apiece."""
        m = unit.shape[0]
        parts = []
        if len(self.planes):
            coords = plane_coordinates(unit.to(self.planes[0].dtype))[:, None]
            for plane in self.planes:  # [3, C, 1, M] -> [M, 3C]
                read = F.grid_sample(plane, coords, mode="bilinear", padding_mode="zeros", align_corners=True)
                read = read.reshape(3, self.channels, m)  # (reshape and unbind, not indexing: their gradients
                if self.combine == "product":             # are reshaped and stacked, not each written into zeros)
                    xy, xz, yz = read.unbind(0)
                    parts.append((xy * xz * yz).t())
                else:
                    parts.append(read.permute(2, 0, 1).reshape(m, -1))
        for volume in self.volumes:  # [1, C, 1, 1, M] -> [M, C]
            read = F.grid_sample(volume, unit.view(1, 1, 1, m, 3).to(volume.dtype), mode="bilinear",
                                 padding_mode="zeros", align_corners=True)
            parts.append(read.view(self.channels, m).t())
        return torch.cat(parts, dim=1)
