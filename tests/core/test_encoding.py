"""Positional encoding: the exact layout of nerf-pytorch's Embedder, so its weights (and R2L's) load unchanged."""

import math

import torch

from r2l_viewer.core.encoding import encoded_dim, positional_encoding


def nerf_pytorch_embedding(x: list[float], frequencies: int) -> list[float]:
    """nerf-pytorch's Embedder written out: the input, then per octave 2^k sin over all dims, then cos over all dims."""
    out = list(x)
    for k in range(frequencies):
        out += [math.sin(2.0**k * v) for v in x]
        out += [math.cos(2.0**k * v) for v in x]
    return out


def test_layout_matches_nerf_pytorch_embedder():
    points = torch.tensor([[0.3, -1.2, 2.5], [0.0, 0.7, -0.1]], dtype=torch.float64)
    encoded = positional_encoding(points, 10)
    assert encoded.shape == (2, encoded_dim(3, 10)) == (2, 63)
    for row, point in zip(encoded, points):
        reference = torch.tensor(nerf_pytorch_embedding(point.tolist(), 10), dtype=torch.float64)
        assert torch.allclose(row, reference, atol=1e-12)


def test_without_input_and_with_no_frequencies():
    x = torch.tensor([[0.5, -0.25]])
    reference = torch.tensor(nerf_pytorch_embedding([0.5, -0.25], 2)[2:])
    assert torch.allclose(positional_encoding(x, 2, include_input=False)[0], reference)
    assert torch.equal(positional_encoding(x, 0), x) and positional_encoding(x, 0, include_input=False).shape == (1, 0)
    assert encoded_dim(2, 2, include_input=False) == 8
