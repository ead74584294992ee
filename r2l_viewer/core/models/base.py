"""What every model shares: the render output, the ray-space warp, and the rays-in, colours-out signature."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ..rays import PIXEL_CENTRE, NdcSpace, to_ndc


@dataclass
class RenderOutput:
    """What a model returns for N rays: rgb [N, 3] in [0, 1]; depth and opacity [N] where the model knows them."""

    rgb: torch.Tensor
    depth: torch.Tensor | None = None
    opacity: torch.Tensor | None = None
    extras: dict = field(default_factory=dict)


def model_space_rays(ndc: dict | None, origins: torch.Tensor, directions: torch.Tensor):
    """World rays as the model sees them: unchanged, or warped to NDC for forward-facing scenes."""
    if ndc is None:
        return origins, directions
    return to_ndc(origins, directions, NdcSpace.from_dict(ndc))


def pixel_offset(model: torch.nn.Module) -> float:
    """Where in its pixel a model's image rays pass (its config's `pixel_offset`): 0.5, the centre, for every model
    but a NeRF imported from nerf-pytorch, whose rays pass through pixel corners (0)."""
    return float(getattr(getattr(model, "config", None), "pixel_offset", PIXEL_CENTRE))


def parameter_count(model: torch.nn.Module) -> int:
    """Number of trainable values in a model."""
    return sum(p.numel() for p in model.parameters())
