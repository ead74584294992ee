"""Colour maps without matplotlib: a heat map (black, red, yellow, white) for error images, Turbo for depth."""

from __future__ import annotations

import torch

ERROR_SCALE = 0.25  # the error heat map's top: a mean absolute difference of this much (or more) is white

_HEAT = torch.tensor([[0.0, 0.0, 0.0], [0.7, 0.0, 0.0], [1.0, 0.55, 0.0], [1.0, 1.0, 0.3], [1.0, 1.0, 1.0]])

# Google's turbo map (Anton Mikhailov, 2019) sampled at every 16th of its 256 sRGB entries and the last one; linear
# interpolation between these stays within 7/255 of the full table. Low values are dark blue, high ones dark red.
_TURBO = torch.tensor([
    (48, 18, 59), (64, 64, 162), (70, 107, 227), (66, 148, 255), (40, 188, 235), (24, 221, 194),
    (50, 242, 152), (109, 254, 98), (164, 252, 60), (205, 236, 52), (238, 207, 58), (253, 172, 52),
    (251, 126, 33), (235, 80, 14), (208, 47, 5), (169, 22, 1), (122, 4, 3),
], dtype=torch.float32) / 255.0
_TURBO_AT = torch.tensor([*range(0, 256, 16), 255], dtype=torch.float32) / 255.0  # where each stop sits in [0, 1]


def _evenly_spaced(stops: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Colours [..., 3] at x [...] in [0, 1] between evenly spaced stops [K, 3]."""
    x = x.clamp(0.0, 1.0) * (len(stops) - 1)
    lo = x.floor().long().clamp(max=len(stops) - 2)
    frac = (x - lo)[..., None]
    stops = stops.to(x.device)
    return stops[lo] * (1 - frac) + stops[lo + 1] * frac


def heat(values: torch.Tensor, vmax: float = ERROR_SCALE) -> torch.Tensor:
    """Map values [...] in [0, vmax] to colours [..., 3] in [0, 1]; larger is brighter."""
    return _evenly_spaced(_HEAT, values.float() / vmax)


def turbo(x: torch.Tensor) -> torch.Tensor:
    """The turbo colour [..., 3] in [0, 1] of values x [...] in [0, 1] (clamped outside)."""
    x = x.float().clamp(0.0, 1.0)
    at = _TURBO_AT.to(x.device)
    hi = torch.searchsorted(at, x.contiguous(), right=True).clamp(1, len(at) - 1)
    lo = hi - 1
    frac = ((x - at[lo]) / (at[hi] - at[lo]))[..., None]
    stops = _TURBO.to(x.device)
    return stops[lo] * (1 - frac) + stops[hi] * frac


def error_image(a: torch.Tensor, b: torch.Tensor, vmax: float = ERROR_SCALE) -> torch.Tensor:
    """Heat map [H, W, 3] of the per-pixel mean absolute difference of two images [H, W, 3]."""
    return heat((a.float() - b.float()).abs().mean(dim=-1), vmax)


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
    span = max(float(far) - float(near), 1e-9)
    colours = turbo((depth.float() - float(near)) / span)
    if opacity is None:
        return colours
    alpha = opacity.float().clamp(0.0, 1.0)[..., None]
    return colours * alpha + torch.as_tensor(background, dtype=torch.float32) * (1.0 - alpha)
