"""The fast grid teacher: dense voxel grids of density and features, a small colour MLP, empty-space skipping."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..config import param
from ..encoding import encoded_dim, positional_encoding
from ..rays import intersect_aabb
from ..volume import alpha_from_density, composite, weights_from_alpha
from .base import RenderOutput, model_space_rays


@dataclass
class GridConfig:
    """A DVGO-style teacher: trilinear density and feature grids over a box, colour from features and view."""

    resolution: int = param(128, "voxels along the longest side of the box", min=4, max=1024, gui=True)
    features: int = param(12, "feature channels per voxel fed to the colour MLP", min=1, max=64)
    mlp_width: int = param(64, "neurons per hidden layer of the colour MLP", min=4, max=1024)
    mlp_layers: int = param(2, "hidden layers of the colour MLP", min=1, max=8)
    view_frequencies: int = param(4, "positional-encoding octaves of the view direction (-1: no view input)", min=-1, max=10)
    step_ratio: float = param(0.5, "distance between ray samples, in voxels", min=0.05, max=4.0)
    initial_alpha: float = param(1e-4, "opacity of one sample step in an untrained grid", min=1e-9, max=0.5)
    skip_alpha: float = param(1e-4, "samples in voxels whose opacity is below this are skipped", min=0.0, max=0.5)
    box_min: tuple = param((-1.5, -1.5, -1.5), "lower corner of the box holding the scene")
    box_max: tuple = param((1.5, 1.5, 1.5), "upper corner of the box holding the scene")
    near: float = param(2.0, "near bound of the rays", min=0.0)
    far: float = param(6.0, "far bound of the rays", min=0.0)
    background: tuple = param((1.0, 1.0, 1.0), "colour behind the scene")
    ndc: dict | None = param(None, "NDC space of a forward-facing scene, or None for world space")

    def grid_shape(self) -> tuple[int, int, int]:
        """Voxels along (x, y, z)."""
        extent = [hi - lo for lo, hi in zip(self.box_min, self.box_max)]
        voxel = max(extent) / self.resolution
        return tuple(max(2, round(e / voxel)) for e in extent)

    def voxel_size(self) -> float:
        return max(hi - lo for lo, hi in zip(self.box_min, self.box_max)) / self.resolution


class GridTeacher(nn.Module):
    """Density grid [1, 1, Z, Y, X] and feature grid [1, C, Z, Y, X] sampled trilinearly along each ray."""

    kind = "grid"

    def __init__(self, config: GridConfig):
        super().__init__()
        self.config = config
        nx, ny, nz = config.grid_shape()
        self.density = nn.Parameter(torch.zeros(1, 1, nz, ny, nx))
        self.feature = nn.Parameter(torch.zeros(1, config.features, nz, ny, nx))
        dir_dim = encoded_dim(3, config.view_frequencies) if config.view_frequencies >= 0 else 0
        layers, width_in = [], config.features + dir_dim
        for _ in range(config.mlp_layers):
            layers += [nn.Linear(width_in, config.mlp_width), nn.ReLU()]
            width_in = config.mlp_width
        layers.append(nn.Linear(width_in, 3))
        self.rgbnet = nn.Sequential(*layers)
        self.register_buffer("occupied", torch.ones(nz, ny, nx, dtype=torch.bool), persistent=False)
        self.register_buffer("box_min", torch.tensor(config.box_min, dtype=torch.float32), persistent=False)
        self.register_buffer("box_max", torch.tensor(config.box_max, dtype=torch.float32), persistent=False)
        self.register_buffer("background", torch.tensor(config.background, dtype=torch.float32), persistent=False)

    @property
    def step_size(self) -> float:
        """World distance between consecutive samples on a ray."""
        return self.config.step_ratio * self.config.voxel_size()

    @property
    def density_shift(self) -> float:
        """Bias that makes a zero grid have `initial_alpha` opacity per sample step."""
        target = -math.log(1.0 - self.config.initial_alpha) / self.step_size
        return math.log(math.expm1(target))

    def density_at(self, raw: torch.Tensor) -> torch.Tensor:
        return F.softplus(raw + self.density_shift)

    def _normalized(self, points: torch.Tensor) -> torch.Tensor:
        return (points - self.box_min) / (self.box_max - self.box_min) * 2.0 - 1.0

    def _sample(self, grid: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
        """Trilinear lookup of grid [1, C, Z, Y, X] at points [M, 3]: [M, C]."""
        coords = self._normalized(points).reshape(1, -1, 1, 1, 3)
        values = F.grid_sample(grid, coords, mode="bilinear", align_corners=True)
        return values.reshape(grid.shape[1], -1).T

    def occupied_at(self, points: torch.Tensor) -> torch.Tensor:
        """Whether the voxels holding points [M, 3] may contain anything (empty-space skipping)."""
        nz, ny, nx = self.occupied.shape
        size = torch.tensor([nx - 1, ny - 1, nz - 1], device=points.device, dtype=points.dtype)
        idx = ((self._normalized(points) + 1.0) * 0.5 * size).round().long()
        idx = torch.minimum(idx.clamp_min(0), size.long())
        return self.occupied[idx[:, 2], idx[:, 1], idx[:, 0]]

    @torch.no_grad()
    def update_occupancy(self, dilation: int = 1) -> float:
        """Mark voxels whose density could make any sample visible; returns the occupied fraction."""
        alpha = alpha_from_density(self.density_at(self.density[0, 0]), self.step_size)
        occupied = alpha > self.config.skip_alpha
        if dilation > 0:
            k = 2 * dilation + 1
            occupied = F.max_pool3d(occupied[None, None].float(), k, stride=1, padding=dilation)[0, 0] > 0
        self.occupied = occupied
        return float(occupied.float().mean())

    @torch.no_grad()
    def resample(self, resolution: int) -> None:
        """Grow (or shrink) the grids to a new resolution by trilinear interpolation, keeping what was learned."""
        self.config.resolution = resolution
        nx, ny, nz = self.config.grid_shape()
        for name in ("density", "feature"):
            old = getattr(self, name)
            new = F.interpolate(old.data, size=(nz, ny, nx), mode="trilinear", align_corners=True)
            setattr(self, name, nn.Parameter(new))
        self.update_occupancy()

    def sample_along_rays(self, origins, directions, randomize=False, generator=None):
        """Ray parameters t [N, S] inside the box and the near/far range, and which of them are live samples."""
        cfg = self.config
        t_enter, t_exit = intersect_aabb(origins, directions, self.box_min, self.box_max)
        t_enter = t_enter.clamp_min(cfg.near)
        t_exit = t_exit.clamp_max(cfg.far)
        step_t = self.step_size / directions.norm(dim=-1)
        span = ((t_exit - t_enter) / step_t).clamp_min(0.0)
        n_steps = int(span.max().ceil().item()) if span.numel() else 0
        n_steps = max(1, min(n_steps, int(math.ceil(3 ** 0.5 * cfg.resolution / cfg.step_ratio)) + 1))
        offset = (
            torch.rand(origins.shape[0], 1, device=origins.device, generator=generator)
            if randomize
            else torch.full((origins.shape[0], 1), 0.5, device=origins.device)
        )
        steps = torch.arange(n_steps, device=origins.device, dtype=torch.float32)[None] + offset
        t = t_enter[:, None] + steps * step_t[:, None]
        live = t < t_exit[:, None]
        return t, live, step_t

    def forward(self, origins, directions, randomize: bool = False, generator=None) -> RenderOutput:
        cfg = self.config
        origins, directions = model_space_rays(cfg.ndc, origins, directions)
        t, live, step_t = self.sample_along_rays(origins, directions, randomize, generator)
        n, s = t.shape
        points = origins[:, None, :] + t[..., None] * directions[:, None, :]
        flat_idx = live.reshape(-1).nonzero()[:, 0]
        flat_points = points.reshape(-1, 3)[flat_idx]
        keep = self.occupied_at(flat_points)
        flat_idx, flat_points = flat_idx[keep], flat_points[keep]
        density = self.density_at(self._sample(self.density, flat_points)[:, 0])
        alpha_live = alpha_from_density(density, self.step_size)
        alpha = torch.zeros(n * s, device=t.device, dtype=alpha_live.dtype).index_put((flat_idx,), alpha_live)
        weights = weights_from_alpha(alpha.reshape(n, s))
        visible = weights.reshape(-1)[flat_idx] > self.config.skip_alpha
        color_idx = flat_idx[visible]
        rgb_live = self._colour(flat_points[visible], directions, color_idx // s)
        colours = torch.zeros(n * s, 3, device=t.device, dtype=rgb_live.dtype).index_put((color_idx,), rgb_live)
        rgb, opacity = composite(weights, colours.reshape(n, s, 3), self.background)
        depth = (weights * t).sum(-1) + (1.0 - opacity).clamp_min(0) * cfg.far
        return RenderOutput(rgb=rgb, depth=depth, opacity=opacity, extras={"weights": weights, "t": t})

    def _colour(self, points, directions, ray_idx):
        features = self._sample(self.feature, points)
        if self.config.view_frequencies >= 0:
            viewdirs = directions / directions.norm(dim=-1, keepdim=True)
            features = torch.cat([features, positional_encoding(viewdirs[ray_idx], self.config.view_frequencies)], -1)
        return torch.sigmoid(self.rgbnet(features))

    def total_variation(self) -> torch.Tensor:
        """Mean squared difference between neighbouring density voxels (a smoothness prior)."""
        d = self.density
        return (
            (d[..., 1:, :, :] - d[..., :-1, :, :]).pow(2).mean()
            + (d[..., :, 1:, :] - d[..., :, :-1, :]).pow(2).mean()
            + (d[..., :, :, 1:] - d[..., :, :, :-1]).pow(2).mean()
        )
