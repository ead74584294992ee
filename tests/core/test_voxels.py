"""The voxel table's trilinear read gives the values and gradients of a plain gather, weighting and sum."""

import torch

from r2l_viewer.core.models.voxels import SparseVoxels, WeightedRows


def plain_read(table: torch.Tensor, rows: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    m, k = rows.shape
    return (table.index_select(0, rows.reshape(-1)).reshape(m, k, table.shape[1]) * weights[..., None]).sum(1)


def test_weighted_rows_match_the_plain_read_in_values_and_gradients():
    torch.manual_seed(0)
    table = torch.randn(50, 5, requires_grad=True)
    rows = torch.randint(0, 50, (300, 8))  # many samples share rows: their gradients must add up
    weights = torch.rand(300, 8, requires_grad=True)
    upstream = torch.randn(300, 5)
    fused = WeightedRows.apply(table, rows, weights)
    plain = plain_read(table, rows, weights)
    assert torch.allclose(fused, plain, atol=1e-5)
    grads = [torch.autograd.grad((out * upstream).sum(), (table, weights)) for out in (fused, plain)]
    assert all(torch.allclose(a, b, atol=1e-4) for a, b in zip(*grads))


def test_a_lookup_of_no_samples_is_empty_and_back_propagates():
    voxels = SparseVoxels((4, 4, 4), {"feature": (3, 0.0)})
    rows, weights, missing = voxels.corners(torch.zeros(0, 3))
    values = voxels.lookup("feature", rows, weights, missing)
    assert values.shape == (0, 3)
    values.sum().backward()
    assert voxels.feature.grad is not None and not voxels.feature.grad.any()


def test_unallocated_corners_read_the_fill():
    voxels = SparseVoxels((4, 4, 4), {"density": (1, -5.0)})
    with torch.no_grad():
        voxels.density.fill_(2.0)
    voxels.keep_only(torch.arange(64) < 32)  # the lower half of the lattice (z < 2) keeps its values
    coords = torch.tensor([[1.0, 1.0, 0.5], [1.0, 1.0, 1.5], [1.0, 1.0, 2.5]])
    values = voxels.lookup("density", *voxels.corners(coords))[:, 0]
    assert torch.allclose(values, torch.tensor([2.0, 0.5 * 2.0 + 0.5 * -5.0, -5.0]))


def test_weighted_rows_pass_gradcheck_and_take_no_samples():
    torch.manual_seed(1)
    table = torch.randn(6, 2, dtype=torch.float64, requires_grad=True)
    weights = torch.rand(4, 8, dtype=torch.float64, requires_grad=True)
    rows = torch.randint(0, 6, (4, 8))
    assert torch.autograd.gradcheck(lambda t, w: WeightedRows.apply(t, rows, w), (table, weights))
    none = WeightedRows.apply(table, rows[:0], weights[:0].detach().requires_grad_())
    assert none.shape == (0, 2)
    grads = torch.autograd.grad(none.sum(), table)
    assert not grads[0].any()
