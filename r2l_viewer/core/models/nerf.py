"""The paper's vanilla NeRF teacher (coarse + fine MLPs, hierarchical sampling), shaped as nerf-pytorch's networks."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..config import param
from ..encoding import encoded_dim, positional_encoding
from ..volume import (
    alpha_from_density,
    normal,
    composite,
    jitter_in_bins,
    termination_depth,
    sample_distances,
    sample_pdf,
    stratified_samples,
    weights_from_alpha,
)
from ..errors import UserError
from .base import PIXEL_CENTRE, RenderOutput, model_space_rays


@dataclass
class NerfConfig:
    """The vanilla NeRF; defaults are the paper's teacher (8 x 256, skip at 4, 10/4 octaves, 64 + 128 samples)."""

    depth: int = param(8, "linear layers of the position trunk", min=2, max=32)
    width: int = param(256, "neurons per trunk layer", min=8, max=2048)
    skip: int = param(4, "trunk layer after which the encoded position is concatenated again", min=0)
    position_frequencies: int = param(10, "positional-encoding octaves for positions", min=0, max=16)
    direction_frequencies: int = param(4, "positional-encoding octaves for view directions", min=0, max=16)
    coarse_samples: int = param(64, "stratified samples per ray for the coarse network", min=2, max=1024)
    fine_samples: int = param(128, "importance samples per ray added for the fine network (0: coarse only)", min=0, max=1024)
    density_noise: float = param(0.0, "std of noise added to raw density while training (regularises)", min=0.0)
    view_directions: bool = param(True, "colour depends on the view direction (nerf-pytorch's use_viewdirs)")
    fine_depth: int = param(0, "linear layers of the fine network's trunk (0: as `depth`)", min=0, max=32)
    fine_width: int = param(0, "neurons per fine trunk layer (0: as `width`)", min=0, max=2048)
    lindisp: bool = param(False, "coarse samples evenly spaced in inverse depth instead of depth (not in NDC)")
    pixel_offset: float = param(PIXEL_CENTRE, "where in its pixel an image ray passes: 0.5 the centre, 0 the corner "
                                "(nerf-pytorch's get_rays; set by import-nerf)", min=0.0, max=1.0, scene=True)
    near: float = param(2.0, "near bound of the ray samples", min=0.0, scene=True)
    far: float = param(6.0, "far bound of the ray samples", min=0.0, scene=True)
    background: tuple = param((1.0, 1.0, 1.0), "colour behind the scene", scene=True)
    ndc: dict | None = param(None, "NDC space of a forward-facing scene, or None for world space", scene=True)


class NerfMLP(nn.Module):
    """One NeRF network; module names match nerf-pytorch so its state dicts load unchanged. `depth` and `width`
    default to the config's (the fine network may have its own). Without view directions the trunk ends in
    nerf-pytorch's `output_linear` (4 raw values, 5 when a fine network exists; the fifth is unused) and its
    unused `views_linears` is kept so that its checkpoints load."""

    def __init__(self, cfg: NerfConfig, depth: int = 0, width: int = 0):
        super().__init__()
        depth, width = depth or cfg.depth, width or cfg.width
        in_pos = encoded_dim(3, cfg.position_frequencies)
        in_dir = encoded_dim(3, cfg.direction_frequencies) if cfg.view_directions else 0
        self.cfg, self.in_pos = cfg, in_pos
        layers = [nn.Linear(in_pos, width)]
        for i in range(depth - 1):
            layers.append(nn.Linear(width + (in_pos if i == cfg.skip else 0), width))
        self.pts_linears = nn.ModuleList(layers)
        self.views_linears = nn.ModuleList([nn.Linear(in_dir + width, width // 2)])
        if cfg.view_directions:
            self.feature_linear = nn.Linear(width, width)
            self.alpha_linear = nn.Linear(width, 1)
            self.rgb_linear = nn.Linear(width // 2, 3)
        else:
            self.output_linear = nn.Linear(width, 5 if cfg.fine_samples > 0 else 4)

    def forward(self, pos_enc: torch.Tensor, dir_enc: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """Raw (rgb logits [M, 3], density logit [M]) for encoded positions and directions (None without them)."""
        h = pos_enc
        for i, layer in enumerate(self.pts_linears):
            h = F.relu(layer(h))
            if i == self.cfg.skip:
                h = torch.cat([pos_enc, h], dim=-1)
        if not self.cfg.view_directions:
            raw = self.output_linear(h)
            return raw[:, :3], raw[:, 3]
        density = self.alpha_linear(h)[:, 0]
        h = torch.cat([self.feature_linear(h), dir_enc], dim=-1)
        for layer in self.views_linears:
            h = F.relu(layer(h))
        return self.rgb_linear(h), density


class VanillaNerf(nn.Module):
    """Coarse and fine NeRF networks with hierarchical sampling; rays in, rgb/depth/opacity out."""

    kind = "nerf"
    depth_statistic = "median"  # how a ray's depth is read from its weights (core/volume.py DEPTH_STATISTICS)

    def __init__(self, config: NerfConfig):
        super().__init__()
        self.config = config
        self.coarse = NerfMLP(config)
        self.fine = NerfMLP(config, config.fine_depth, config.fine_width) if config.fine_samples > 0 else None
        self.register_buffer("background", torch.tensor(config.background, dtype=torch.float32), persistent=False)

    @property
    def samples_per_ray(self) -> int:
        """Points the networks evaluate per ray at most (the fine pass: coarse plus fine samples); sizes render chunks."""
        return self.config.coarse_samples + self.config.fine_samples

    @torch.no_grad()
    def point_density(self, points: torch.Tensor) -> torch.Tensor:
        """Density [M] at model-space points [M, 3] from the fine network (the coarse one without it)."""
        cfg, net = self.config, self.fine if self.fine is not None else self.coarse
        pos_enc = positional_encoding(points, cfg.position_frequencies)
        dir_enc = positional_encoding(torch.zeros_like(points), cfg.direction_frequencies)
        return F.relu(net(pos_enc, dir_enc)[1])

    def _shade(self, net, origins, directions, viewdirs, t, randomize, generator):
        """Colour, opacity and weights of rays (in model space) sampled at t [N, S]; `viewdirs` [N, 3] are the
        unit world directions the colour depends on."""
        cfg = self.config
        points = origins[:, None, :] + t[..., None] * directions[:, None, :]
        n, s = t.shape
        pos_enc = positional_encoding(points.reshape(-1, 3), cfg.position_frequencies)
        dir_enc = None
        if cfg.view_directions:
            per_sample = viewdirs[:, None, :].expand(n, s, 3).reshape(-1, 3)
            dir_enc = positional_encoding(per_sample, cfg.direction_frequencies)
        rgb_raw, density_raw = net(pos_enc, dir_enc)
        if randomize and cfg.density_noise > 0:
            density_raw = density_raw + cfg.density_noise * normal(density_raw.shape, density_raw.device, generator)
        density = F.relu(density_raw).reshape(n, s)
        weights = weights_from_alpha(alpha_from_density(density, sample_distances(t, directions)))
        rgb, opacity = composite(weights, torch.sigmoid(rgb_raw).reshape(n, s, 3), self.background)
        return rgb, opacity, weights

    def _coarse_samples(self, n_rays: int, device, randomize: bool, generator) -> torch.Tensor:
        """Coarse ray parameters t [N, S] from near to far, evenly spaced in depth, or in inverse depth with
        `lindisp` (as nerf-pytorch, which ignores lindisp in NDC space)."""
        cfg = self.config
        if not cfg.lindisp or cfg.ndc is not None:
            return stratified_samples(cfg.near, cfg.far, n_rays, cfg.coarse_samples, device, generator, randomize)
        t = 1.0 / stratified_samples(1.0 / cfg.near, 1.0 / cfg.far, n_rays, cfg.coarse_samples, device)
        return jitter_in_bins(t, generator) if randomize else t

    def forward(self, origins, directions, randomize: bool = False, generator=None) -> RenderOutput:
        cfg = self.config
        viewdirs = directions / directions.norm(dim=-1, keepdim=True)  # from world rays, before any NDC warp
        origins, directions = model_space_rays(cfg.ndc, origins, directions)
        t = self._coarse_samples(origins.shape[0], origins.device, randomize, generator)
        rgb, opacity, weights = self._shade(self.coarse, origins, directions, viewdirs, t, randomize, generator)
        extras = {"coarse_rgb": rgb}
        if self.fine is not None:
            mids = 0.5 * (t[:, 1:] + t[:, :-1])
            t_fine = sample_pdf(mids, weights[:, 1:-1], cfg.fine_samples, generator, deterministic=not randomize)
            t, _ = torch.sort(torch.cat([t, t_fine.detach()], dim=-1), dim=-1)
            rgb, opacity, weights = self._shade(self.fine, origins, directions, viewdirs, t, randomize, generator)
        depth = termination_depth(self.depth_statistic, weights, t, cfg.far)  # as the grid teacher's
        return RenderOutput(rgb=rgb, depth=depth, opacity=opacity, extras=extras)


class NerfWeightsError(UserError):
    """A nerf-pytorch checkpoint could not be read or does not fit the network."""
