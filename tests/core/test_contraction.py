"""Scene contraction: known points land where the formula says, the map is continuous at the unit cube's surface,
and points placed along a ray keep their order and equal contracted spacing."""

from __future__ import annotations

import torch

from r2l_viewer.core.contraction import DEPTH_SPAN, ContractedRays, ContractedSpace, contract


def test_known_points_map_where_the_formula_says():
    u = torch.tensor([[0.3, -0.5, 0.9], [2.0, 0.0, 0.0], [0.0, -4.0, 1.0], [1e6, 1e6, 0.0]])
    expected = torch.tensor([[0.3, -0.5, 0.9], [1.5, 0.0, 0.0], [0.0, -1.75, 1.75 / 4], [2.0, 2.0, 0.0]])
    assert torch.allclose(contract(u), expected, atol=1e-5)


def test_contraction_is_continuous_at_the_unit_cube_and_stays_inside_the_outer_cube():
    direction = torch.nn.functional.normalize(torch.randn(200, 3), dim=-1)
    on_cube = direction / direction.abs().amax(-1, keepdim=True)
    inside, outside = contract(on_cube * (1 - 1e-4)), contract(on_cube * (1 + 1e-4))
    assert (inside - outside).norm(dim=-1).max() < 1e-3
    far = contract(torch.randn(1000, 3) * 1e4)
    assert far.abs().max() <= 2.0


def test_points_along_a_ray_are_monotonic_and_evenly_spaced_in_contracted_space():
    space = ContractedSpace((0.5, -0.2, 0.1), 2.0)
    origins = torch.tensor([[0.5, -0.2, 0.1], [1.0, 1.0, 0.5], [9.0, 0.0, 0.0]])  # centre, inside, outside the region
    directions = torch.tensor([[1.0, 0.2, 0.0], [0.0, -1.0, 0.3], [0.0, 1.0, 0.0]])
    rays = ContractedRays(space, origins, directions)
    assert (rays.length > 0).all() and (rays.length * space.radius <= space.depth_far).all()
    lengths = torch.linspace(0, 1, 33)[None] * rays.length[:, None]
    t = rays.at(lengths)
    assert (t[:, 1:] > t[:, :-1]).all()  # further along the path is further along the ray
    steps = (rays.points(t)[:, 1:] - rays.points(t)[:, :-1]).norm(dim=-1)
    assert torch.allclose(steps, rays.length[:, None] / 32, rtol=0.05)
    from_centre = rays.points(t)[0].abs().amax(-1)
    assert (from_centre[1:] >= from_centre[:-1] - 1e-6).all() and from_centre[-1] > 1.99  # out to the far shell


def test_the_path_inside_the_unit_region_is_the_true_distance():
    space = ContractedSpace((0.0, 0.0, 0.0), 3.0)
    rays = ContractedRays(space, torch.zeros(1, 3), torch.tensor([[0.0, 0.0, -2.0]]))
    t = rays.at(torch.tensor([[0.25, 0.5]]))  # in radii: 0.75 and 1.5 scene units along a ray of speed 2
    assert torch.allclose(t, torch.tensor([[0.375, 0.75]]), atol=1e-5)
    assert DEPTH_SPAN * space.radius == space.depth_far
