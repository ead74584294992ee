"""A perceptually ordered heat colour map (black, red, yellow, white) for error images, without matplotlib."""

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
