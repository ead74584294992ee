"""Volume rendering as small free functions: sampling along rays, weights from density, compositing, depth."""

from __future__ import annotations

import torch


def uniform(shape, device, generator: torch.Generator | None = None) -> torch.Tensor:
    """U[0, 1) numbers on `device`, drawn from `generator` wherever it lives (a CPU generator keeps runs
    reproducible and resumable on any device)."""
    if generator is None or generator.device == torch.device(device):
        return torch.rand(shape, device=device, generator=generator)
    return torch.rand(shape, generator=generator).to(device, non_blocking=True)


def normal(shape, device, generator: torch.Generator | None = None) -> torch.Tensor:
    """Standard normal numbers on `device` from `generator` (see `uniform`)."""
    if generator is None or generator.device == torch.device(device):
        return torch.randn(shape, device=device, generator=generator)
    return torch.randn(shape, generator=generator).to(device, non_blocking=True)


def stratified_samples(
    near: torch.Tensor | float,
    far: torch.Tensor | float,
    n_rays: int,
    n_samples: int,
    device: torch.device | str = "cpu",
    generator: torch.Generator | None = None,
    jitter: bool = False,
    spacing: float = 1.0,
) -> torch.Tensor:
    """Ray parameters t [N, S], evenly spaced from near to far (both included), or with `spacing` s > 1 at u^s of
    the way for u evenly spaced in [0, 1] (closer together near `near`); `jitter` moves each uniformly inside its
    bin (bins split at the midpoints), as NeRF and R2L do for training."""
    u = torch.linspace(0.0, 1.0, n_samples, device=device)
    if spacing != 1.0:
        u = u.pow(spacing)
    near_t = torch.as_tensor(near, dtype=torch.float32, device=device).reshape(-1, 1)
    far_t = torch.as_tensor(far, dtype=torch.float32, device=device).reshape(-1, 1)
    t = (near_t * (1.0 - u) + far_t * u).expand(n_rays, n_samples)
    return jitter_in_bins(t, generator) if jitter else t.contiguous()


def jitter_in_bins(t: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Ray parameters t [N, S] each moved uniformly inside its bin (bins split at the midpoints; the first and last
    bins end at t's ends)."""
    if t.shape[-1] < 2:
        return t.contiguous()
    mids = 0.5 * (t[:, 1:] + t[:, :-1])
    upper = torch.cat([mids, t[:, -1:]], dim=-1)
    lower = torch.cat([t[:, :1], mids], dim=-1)
    r = uniform(t.shape, t.device, generator)
    return lower + (upper - lower) * r


def sample_distances(t: torch.Tensor, directions: torch.Tensor, last: float = 1e10) -> torch.Tensor:
    """Lengths [N, S] of the intervals between consecutive samples t [N, S] along rays [N, 3]; the last is `last`."""
    deltas = t[:, 1:] - t[:, :-1]
    deltas = torch.cat([deltas, torch.full_like(t[:, :1], last)], dim=-1)
    return deltas * directions.norm(dim=-1, keepdim=True)


def alpha_from_density(density: torch.Tensor, distances: torch.Tensor) -> torch.Tensor:
    """Opacity of each interval: 1 - exp(-density * length). Density is already non-negative."""
    return 1.0 - torch.exp(-density * distances)


def distortion(weights: torch.Tensor, mids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """mip-NeRF 360's distortion loss per ray [N]: sum over pairs of samples of w_i w_j |m_i - m_j| plus a third of
    sum w_i^2 l_i, for weights [N, S] of sorted intervals with midpoints mids [N, S] and lengths [N, S] in a
    normalised coordinate (0 to 1 along the ray's span). Small where a ray's weight sits in one short stretch;
    large where it is spread along the ray (floaters, fog). The pair sum in O(S): 2 sum_i w_i (m_i W_i - M_i), W_i
    and M_i the sums of w_j and w_j m_j over j < i."""
    before_w = torch.cumsum(weights, dim=-1) - weights
    before_wm = torch.cumsum(weights * mids, dim=-1) - weights * mids
    pairs = 2.0 * (weights * (mids * before_w - before_wm)).sum(dim=-1)
    return pairs + (weights.square() * lengths).sum(dim=-1) / 3.0


def weights_from_alpha(alpha: torch.Tensor) -> torch.Tensor:
    """Compositing weights [N, S]: alpha_i times the transmittance through all samples before i."""
    transmittance = torch.cumprod(1.0 - alpha + 1e-10, dim=-1)
    transmittance = torch.cat([torch.ones_like(alpha[:, :1]), transmittance[:, :-1]], dim=-1)
    return alpha * transmittance


def composite(
    weights: torch.Tensor, colors: torch.Tensor, background: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Blend colours [N, S, C] with weights [N, S] over a background [C]: (rgb [N, C], opacity [N])."""
    rgb = (weights[..., None] * colors).sum(dim=-2)
    opacity = weights.sum(dim=-1)
    if background is not None:
        rgb = rgb + (1.0 - opacity[:, None]) * background
    return rgb, opacity


def expected_depth(weights: torch.Tensor, t: torch.Tensor, far: torch.Tensor | float | None = None) -> torch.Tensor:
    """Expected ray parameter [N] under the weights; where the ray is not fully opaque the rest goes to `far`."""
    depth = (weights * t).sum(dim=-1)
    if far is not None:
        depth = depth + (1.0 - weights.sum(dim=-1)).clamp_min(0.0) * torch.as_tensor(far, device=t.device)
    return depth


def median_depth(weights: torch.Tensor, t: torch.Tensor, far: torch.Tensor | float) -> torch.Tensor:
    """Median termination depth [N]: the first sample t [N, S] where the accumulated weights [N, S] reach one half
    (where a ray's opacity stays below one half it mostly ends in the background: `far`). Unlike the expected depth
    it does not average a surface with what lies behind it, so a surface that is not quite opaque keeps its depth."""
    reached = torch.cumsum(weights, dim=-1) >= 0.5
    first = reached.to(torch.uint8).argmax(dim=-1, keepdim=True)
    far = torch.as_tensor(far, dtype=t.dtype, device=t.device).expand(t.shape[0])
    return torch.where(reached.any(dim=-1), t.gather(-1, first)[:, 0], far)


DEPTH_STATISTICS = ("expected", "median")


def termination_depth(statistic: str, weights: torch.Tensor, t: torch.Tensor, far) -> torch.Tensor:
    """A ray's depth [N] as `statistic` ('expected' or 'median', see DEPTH_STATISTICS) of where it ends."""
    if statistic == "median":
        return median_depth(weights, t, far)
    return expected_depth(weights, t, far)


def sample_pdf(
    bins: torch.Tensor,
    weights: torch.Tensor,
    n_samples: int,
    generator: torch.Generator | None = None,
    deterministic: bool = True,
) -> torch.Tensor:
    """Importance samples [N, n] from the piecewise-constant density `weights` [N, B] over `bins` edges [N, B+1]."""
    weights = weights + 1e-5
    pdf = weights / weights.sum(dim=-1, keepdim=True)
    cdf = torch.cumsum(pdf, dim=-1)
    cdf = torch.cat([torch.zeros_like(cdf[:, :1]), cdf], dim=-1)  # [N, B+1]
    if deterministic:
        u = torch.linspace(0.0, 1.0, n_samples, device=bins.device).expand(cdf.shape[0], n_samples)
    else:
        u = uniform((cdf.shape[0], n_samples), bins.device, generator)
    u = u.contiguous()
    idx = torch.searchsorted(cdf, u, right=True)
    below = (idx - 1).clamp(min=0)
    above = idx.clamp(max=cdf.shape[-1] - 1)
    cdf_lo, cdf_hi = torch.gather(cdf, 1, below), torch.gather(cdf, 1, above)
    bin_lo, bin_hi = torch.gather(bins, 1, below), torch.gather(bins, 1, above)
    span = cdf_hi - cdf_lo
    span = torch.where(span < 1e-5, torch.ones_like(span), span)
    return bin_lo + (u - cdf_lo) / span * (bin_hi - bin_lo)
