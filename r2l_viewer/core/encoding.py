"""Positional encoding of coordinates with sines and cosines of octave frequencies (NeRF, R2L)."""

from __future__ import annotations

import torch


def encoded_dim(input_dim: int, num_frequencies: int, include_input: bool = True) -> int:
    """Width of `positional_encoding`'s output for `input_dim` coordinates."""
    return input_dim * (2 * num_frequencies + (1 if include_input else 0))


def positional_encoding(x: torch.Tensor, num_frequencies: int, include_input: bool = True) -> torch.Tensor:
    """Encode x [..., D] as [x, sin(2^0 x), cos(2^0 x), ..., sin(2^(L-1) x), cos(2^(L-1) x)]: [..., D(2L+1)].

    The block layout is that of the original NeRF code, so weights trained there load here unchanged.
    """
    if num_frequencies == 0:
        return x if include_input else x[..., :0]
    freqs = 2.0 ** torch.arange(num_frequencies, dtype=x.dtype, device=x.device)
    scaled = x[..., None, :] * freqs[:, None]  # [..., L, D]
    waves = torch.stack([torch.sin(scaled), torch.cos(scaled)], dim=-2)  # [..., L, 2, D]
    waves = waves.flatten(-3)  # [..., 2LD]
    return torch.cat([x, waves], dim=-1) if include_input else waves
