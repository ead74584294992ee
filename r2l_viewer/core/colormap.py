"""Colour maps without matplotlib: a heat map (black, red, yellow, white) for error images, Turbo for depth."""

from __future__ import annotations

import torch

_STOPS = torch.tensor([[0.0, 0.0, 0.0], [0.7, 0.0, 0.0], [1.0, 0.55, 0.0], [1.0, 1.0, 0.3], [1.0, 1.0, 1.0]])


def heat(values: torch.Tensor, vmax: float = 0.25) -> torch.Tensor:
    """Map values [...] in [0, vmax] to colours [..., 3] in [0, 1]; larger is brighter."""
    x = (values.float() / vmax).clamp(0.0, 1.0) * (len(_STOPS) - 1)
    lo = x.floor().long().clamp(max=len(_STOPS) - 2)
    frac = (x - lo)[..., None]
    stops = _STOPS.to(values.device)
    return stops[lo] * (1 - frac) + stops[lo + 1] * frac


def error_image(a: torch.Tensor, b: torch.Tensor, vmax: float = 0.25) -> torch.Tensor:
    """Heat map [H, W, 3] of the per-pixel mean absolute difference of two images [H, W, 3]."""
    return heat((a.float() - b.float()).abs().mean(dim=-1), vmax)


# Turbo (Anton Mikhailov, Google, 2019; Apache-2.0): a rainbow map with monotonic lightness in its lower half,
# here as its published degree-5 polynomial fit, one row of coefficients (x^0 .. x^5) per channel.
_TURBO = torch.tensor([
    [0.13572138, 4.61539260, -42.66032258, 132.13108234, -152.94239396, 59.28637943],
    [0.09140261, 2.19418839, 4.84296658, -14.18503333, 4.27729857, 2.82956604],
    [0.10667330, 12.64194608, -60.58204836, 110.36276771, -89.90310912, 27.34824973],
], dtype=torch.float64)


def turbo(values: torch.Tensor) -> torch.Tensor:
    """Map values [...] in [0, 1] (clamped) to Turbo colours [..., 3] in [0, 1]: dark blue, cyan, green,
    yellow, red, dark red."""
    x = values.double().clamp(0.0, 1.0)[..., None]
    powers = x ** torch.arange(6, dtype=torch.float64, device=values.device)
    return (powers @ _TURBO.to(values.device).T).clamp(0.0, 1.0).float()


QUANTILE_LIMIT = 1 << 22


def depth_range(depth: torch.Tensor, far: float, opacity: torch.Tensor | None = None) -> tuple[float, float]:
    """The depths [H, W] a colour map should span: the 1st to 99th percentile of the surfaces seen (pixels with
    opacity of at least a half, or, without opacity, nearer than `far`, where models put empty rays)."""
    seen = depth[opacity >= 0.5] if opacity is not None else depth[depth < far * (1.0 - 1e-4)]
    if seen.numel() == 0:
        seen = depth.reshape(-1)
    seen = seen.float().reshape(-1)
    seen = seen[:: -(-seen.numel() // QUANTILE_LIMIT)]  # (torch.quantile takes at most 2^24 values)
    lo, hi = torch.quantile(seen, torch.tensor([0.01, 0.99], device=seen.device)).tolist()
    return lo, hi if hi > lo else lo + 1e-6


def depth_image(depth: torch.Tensor, near: float, far: float, opacity: torch.Tensor | None = None,
                background=(1.0, 1.0, 1.0)) -> torch.Tensor:
    """Depth [H, W] as a Turbo image [H, W, 3]: `near` dark blue to `far` dark red (clamped); where the model
    gives opacity, blended over the background colour by it, so empty space shows the background."""
    colours = turbo((depth.float() - near) / (far - near))
    if opacity is None:
        return colours
    alpha = opacity.float().clamp(0.0, 1.0)[..., None]
    return colours * alpha + torch.as_tensor(background, dtype=torch.float32) * (1.0 - alpha)
