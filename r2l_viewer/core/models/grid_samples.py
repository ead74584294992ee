"""The grid teacher's importance sampler: intervals drawn where a density probe's weights are (the march: grid.py).

The importance sampler is for scenes whose space is full (NDC frustums, contracted unbounded scenes), where a
march at half a voxel takes hundreds of samples per ray through fog-like density. It probes the density at even
steps without gradients, turns the probe's compositing weights into a distribution along the ray (mixed with a
uniform share, so that space the probe calls empty keeps being seen and can still gain density), and draws the
edges of a few intervals from it by inverse transform sampling; each interval is then rendered at its midpoint with
its own length, as the proposal samplers of mip-NeRF 360 and nerfacto place their samples."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..volume import uniform

UNIFORM_SHARE = 0.1  # share of the drawn intervals spread evenly along the span, whatever the probe saw


@dataclass
class RaySamples:
    """Samples [N, S] on rays: `t` the ray parameter (or contracted path length) of each, `live` which count,
    `distances` the length each stands for in the grid's space (a float for the fixed-step march), `contracted` the
    samples' points in contracted space (unbounded scenes, else None), `far` [N] the depth of a ray that ends in
    nothing and `unit_edges` [N, S + 1] the edges of the samples' intervals as fractions of the ray's whole span, near
    to far or the contracted path's length (the importance sampler's when training, for the distortion loss;
    else None)."""

    t: torch.Tensor
    live: torch.Tensor
    distances: torch.Tensor | float
    contracted: torch.Tensor | None
    far: torch.Tensor
    unit_edges: torch.Tensor | None = None

    def live_distances(self, flat_idx: torch.Tensor) -> torch.Tensor | float:
        """The distances of the live samples at flat indices [M] (the step itself for the march)."""
        if isinstance(self.distances, float):
            return self.distances
        return self.distances.reshape(-1)[flat_idx]


def even_edges(start: torch.Tensor, end: torch.Tensor, count: int) -> torch.Tensor:
    """`count` + 1 evenly spaced edges [N, count + 1] from start [N] to end [N]."""
    u = torch.linspace(0.0, 1.0, count + 1, device=start.device, dtype=start.dtype)
    return start[:, None] + (end - start)[:, None] * u


def probe_points(edges: torch.Tensor, randomize: bool, generator=None) -> torch.Tensor:
    """One point per interval between edges [N, K + 1]: uniformly inside it for training, its midpoint otherwise."""
    lo, hi = edges[:, :-1], edges[:, 1:]
    share = uniform(lo.shape, lo.device, generator) if randomize else torch.full_like(lo, 0.5)
    return lo + (hi - lo) * share


def drawn_edges(edges: torch.Tensor, weights: torch.Tensor, count: int, randomize: bool,
                generator=None) -> torch.Tensor:
    """`count` + 1 sorted edges [N, count + 1] from the first probe edge to the last, drawn from the probe's
    weights [N, K] over its intervals (edges [N, K + 1]) mixed with an even share UNIFORM_SHARE: the drawn
    intervals are short where the weights are. Training jitters the inner edges' quantiles by up to half of
    1 / count."""
    total = weights.sum(-1, keepdim=True)
    pdf = torch.where(total > 0, weights / total.clamp_min(1e-12), 1.0 / weights.shape[-1])
    pdf = (1.0 - UNIFORM_SHARE) * pdf + UNIFORM_SHARE / weights.shape[-1]
    cdf = torch.cat([torch.zeros_like(pdf[:, :1]), pdf.cumsum(-1)], -1)
    cdf = cdf / cdf[:, -1:]
    n = edges.shape[0]
    u = torch.linspace(0.0, 1.0, count + 1, device=edges.device, dtype=edges.dtype).expand(n, -1)
    if randomize and count > 1:
        jitter = (uniform((n, count - 1), edges.device, generator) - 0.5) / count
        u = torch.cat([u[:, :1], u[:, 1:-1] + jitter, u[:, -1:]], -1)
    return invert_cdf(edges, cdf, u.contiguous())


def invert_cdf(edges: torch.Tensor, cdf: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """Positions [N, M] where the piecewise-linear cdf [N, K + 1] (at edges [N, K + 1], 0 to 1) reaches u [N, M]."""
    above = torch.searchsorted(cdf, u, right=True).clamp(1, cdf.shape[-1] - 1)
    below = above - 1
    c_lo, c_hi = cdf.gather(1, below), cdf.gather(1, above)
    e_lo, e_hi = edges.gather(1, below), edges.gather(1, above)
    frac = ((u - c_lo) / (c_hi - c_lo).clamp_min(1e-12)).clamp(0.0, 1.0)
    return e_lo + (e_hi - e_lo) * frac
