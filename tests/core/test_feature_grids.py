"""The learned planes read with each texel's channels side by side give the values and gradients of a plain read."""

import pytest
import torch
import torch.nn.functional as F

from r2l_viewer.core.models.feature_grids import FeatureGrids, plane_coordinates


def plain_reads(grids: FeatureGrids, unit: torch.Tensor) -> torch.Tensor:
    """Each plane level's xy, xz, yz reads [M, 3C] (or their product [M, C]) from the planes in their stored
    (channels-first) layout."""
    coords = plane_coordinates(unit)[:, None]
    reads = [F.grid_sample(plane, coords, mode="bilinear", padding_mode="zeros", align_corners=True)[:, :, 0]
             for plane in grids.planes]
    if grids.combine == "product":
        return torch.cat([(read[0] * read[1] * read[2]).t() for read in reads], 1)
    return torch.cat([read.permute(2, 0, 1).reshape(len(unit), -1) for read in reads], 1)


@pytest.mark.parametrize("combine", ["concat", "product"])
def test_channels_last_reads_and_gradients_equal_the_plain_ones(combine):
    torch.manual_seed(0)
    grids = FeatureGrids((5, 9), (), channels=3, combine=combine)
    unit = torch.rand(200, 3) * 2.2 - 1.1  # some points outside the cube read zeros
    weights = torch.randn(200, grids.features_per_point)
    (grids(unit) * weights).sum().backward()
    side_by_side = [p.grad.clone() for p in grids.planes]
    grids.zero_grad()
    (plain_reads(grids, unit) * weights).sum().backward()
    assert torch.allclose(grids(unit), plain_reads(grids, unit), atol=1e-6)
    assert all(torch.allclose(a, p.grad, atol=1e-5) for a, p in zip(side_by_side, grids.planes))
    assert all(p.is_contiguous() for p in grids.planes)  # the stored parameters keep their layout
