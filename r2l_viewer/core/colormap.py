"""Colour maps without matplotlib: a heat map (black, red, yellow, white) for errors, turbo for depth."""

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


def depth_image(depth: torch.Tensor, near: float, far: float) -> torch.Tensor:
    """Turbo map [H, W, 3] of depths [H, W]: `near` (or nearer) dark blue, `far` (or farther) dark red."""
    span = max(float(far) - float(near), 1e-9)
    return turbo((depth.float() - float(near)) / span)
