"""What every model shares: the render output, the ray-space warp, and the rays-in, colours-out signature."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ..rays import NdcSpace, to_ndc


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


def parameter_count(model: torch.nn.Module) -> int:
    """Number of trainable values in a model."""
    return sum(p.numel() for p in model.parameters())
