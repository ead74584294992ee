"""The vanilla NeRF teacher of the paper (coarse + fine MLPs, hierarchical sampling) and a nerf-pytorch loader."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..config import param
from ..encoding import encoded_dim, positional_encoding
from ..volume import (
    alpha_from_density,
    normal,
    composite,
    termination_depth,
    sample_distances,
    sample_pdf,
    stratified_samples,
    weights_from_alpha,
)
from .base import RenderOutput, model_space_rays


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
    near: float = param(2.0, "near bound of the ray samples", min=0.0, scene=True)
    far: float = param(6.0, "far bound of the ray samples", min=0.0, scene=True)
    background: tuple = param((1.0, 1.0, 1.0), "colour behind the scene", scene=True)
    ndc: dict | None = param(None, "NDC space of a forward-facing scene, or None for world space", scene=True)


class NerfMLP(nn.Module):
    """One NeRF network; module names match nerf-pytorch so its state dicts load unchanged."""

    def __init__(self, cfg: NerfConfig):
        super().__init__()
        in_pos = encoded_dim(3, cfg.position_frequencies)
        in_dir = encoded_dim(3, cfg.direction_frequencies)
        self.cfg, self.in_pos = cfg, in_pos
        layers = [nn.Linear(in_pos, cfg.width)]
        for i in range(cfg.depth - 1):
            layers.append(nn.Linear(cfg.width + (in_pos if i == cfg.skip else 0), cfg.width))
        self.pts_linears = nn.ModuleList(layers)
        self.views_linears = nn.ModuleList([nn.Linear(in_dir + cfg.width, cfg.width // 2)])
        self.feature_linear = nn.Linear(cfg.width, cfg.width)
        self.alpha_linear = nn.Linear(cfg.width, 1)
        self.rgb_linear = nn.Linear(cfg.width // 2, 3)

    def forward(self, pos_enc: torch.Tensor, dir_enc: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Raw (rgb logits [M, 3], density logit [M]) for encoded positions and directions."""
        h = pos_enc
        for i, layer in enumerate(self.pts_linears):
            h = F.relu(layer(h))
            if i == self.cfg.skip:
                h = torch.cat([pos_enc, h], dim=-1)
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
        self.fine = NerfMLP(config) if config.fine_samples > 0 else None
        self.register_buffer("background", torch.tensor(config.background, dtype=torch.float32), persistent=False)

    @property
    def samples_per_ray(self) -> int:
        """Points the networks evaluate per ray at most (the fine pass: coarse plus fine samples); sizes render chunks."""
        return self.config.coarse_samples + self.config.fine_samples

    def _shade(self, net, origins, directions, viewdirs, t, randomize, generator):
        """Colour, opacity and weights of rays (in model space) sampled at t [N, S]; `viewdirs` [N, 3] are the
        unit world directions the colour depends on."""
        cfg = self.config
        points = origins[:, None, :] + t[..., None] * directions[:, None, :]
        n, s = t.shape
        pos_enc = positional_encoding(points.reshape(-1, 3), cfg.position_frequencies)
        dir_enc = positional_encoding(viewdirs[:, None, :].expand(n, s, 3).reshape(-1, 3), cfg.direction_frequencies)
        rgb_raw, density_raw = net(pos_enc, dir_enc)
        if randomize and cfg.density_noise > 0:
            density_raw = density_raw + cfg.density_noise * normal(density_raw.shape, density_raw.device, generator)
        density = F.relu(density_raw).reshape(n, s)
        weights = weights_from_alpha(alpha_from_density(density, sample_distances(t, directions)))
        rgb, opacity = composite(weights, torch.sigmoid(rgb_raw).reshape(n, s, 3), self.background)
        return rgb, opacity, weights

    def forward(self, origins, directions, randomize: bool = False, generator=None) -> RenderOutput:
        cfg = self.config
        viewdirs = directions / directions.norm(dim=-1, keepdim=True)  # from world rays, before any NDC warp
        origins, directions = model_space_rays(cfg.ndc, origins, directions)
        t = stratified_samples(
            cfg.near, cfg.far, origins.shape[0], cfg.coarse_samples, origins.device, generator, jitter=randomize
        )
        rgb, opacity, weights = self._shade(self.coarse, origins, directions, viewdirs, t, randomize, generator)
        extras = {"coarse_rgb": rgb}
        if self.fine is not None:
            mids = 0.5 * (t[:, 1:] + t[:, :-1])
            t_fine = sample_pdf(mids, weights[:, 1:-1], cfg.fine_samples, generator, deterministic=not randomize)
            t, _ = torch.sort(torch.cat([t, t_fine.detach()], dim=-1), dim=-1)
            rgb, opacity, weights = self._shade(self.fine, origins, directions, viewdirs, t, randomize, generator)
        depth = termination_depth(self.depth_statistic, weights, t, cfg.far)  # as the grid teacher's
        return RenderOutput(rgb=rgb, depth=depth, opacity=opacity, extras=extras)


class NerfWeightsError(ValueError):
    """A nerf-pytorch checkpoint could not be read or does not fit the network."""


def load_nerf_pytorch(path: str | Path, config: NerfConfig | None = None) -> VanillaNerf:
    """A VanillaNerf with the weights of a nerf-pytorch `.tar` (network_fn_state_dict, network_fine_state_dict)."""
    path = Path(path)
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise NerfWeightsError(f"{path}: no such file") from None
    except Exception as exc:  # the loader raises many kinds for files that are not torch checkpoints
        raise NerfWeightsError(f"{path}: not a readable nerf-pytorch checkpoint ({type(exc).__name__})") from None
    if not isinstance(data, dict) or "network_fn_state_dict" not in data:
        raise NerfWeightsError(f"{path}: has no 'network_fn_state_dict'; is it a nerf-pytorch checkpoint?")
    fine_state = data.get("network_fine_state_dict")
    config = config or NerfConfig(fine_samples=128 if fine_state else 0)
    model = VanillaNerf(config)
    try:
        model.coarse.load_state_dict(data["network_fn_state_dict"])
        if model.fine is not None:
            model.fine.load_state_dict(fine_state if fine_state else data["network_fn_state_dict"])
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        raise NerfWeightsError(f"{path}: weights do not fit the network ({first[1].strip() if len(first) > 1 else first[0]})") from None
    return model
