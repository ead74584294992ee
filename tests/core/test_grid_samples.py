"""The grid teacher's importance sampler: intervals drawn from a density probe cover each ray's span, gather where
the weight is, and render what the fixed-step march renders."""

from __future__ import annotations

import math

import pytest
import torch

from r2l_viewer.core.encoding import positional_encoding
from r2l_viewer.core.models import GridConfig, GridTeacher
from r2l_viewer.core.models.grid_samples import UNIFORM_SHARE, drawn_edges, even_edges, invert_cdf


def test_an_even_cdf_inverts_to_even_positions():
    edges = even_edges(torch.tensor([1.0]), torch.tensor([3.0]), 4)
    cdf = torch.linspace(0.0, 1.0, 5)[None]
    u = torch.tensor([[0.0, 0.125, 0.5, 0.9, 1.0]])
    assert torch.allclose(invert_cdf(edges, cdf, u), 1.0 + 2.0 * u)


@pytest.mark.parametrize("randomize", [False, True])
def test_drawn_edges_span_the_ray_in_order_and_gather_where_the_weight_is(randomize):
    edges = even_edges(torch.zeros(3), torch.tensor([1.0, 2.0, 4.0]), 50)
    weights = torch.zeros(3, 50)
    weights[:, 20] = 0.9  # one opaque interval: [0.4, 0.42] of each ray's span
    drawn = drawn_edges(edges, weights, 32, randomize, torch.Generator().manual_seed(0))
    assert drawn.shape == (3, 33)
    assert torch.equal(drawn[:, 0], edges[:, 0]) and torch.allclose(drawn[:, -1], edges[:, -1])
    assert (drawn[:, 1:] >= drawn[:, :-1]).all()
    inside = ((drawn >= edges[:, 20:21]) & (drawn <= edges[:, 21:22])).sum(-1)
    assert (inside >= (1.0 - UNIFORM_SHARE) * 32 - 2).all()  # nearly all but the even share land there


def test_without_weights_the_drawn_edges_are_even():
    edges = even_edges(torch.zeros(2), torch.tensor([1.0, 5.0]), 16)
    drawn = drawn_edges(edges, torch.zeros(2, 16), 8, False)
    assert torch.allclose(drawn, even_edges(torch.zeros(2), torch.tensor([1.0, 5.0]), 8), atol=1e-6)


NDC = {"height": 30, "width": 40, "focal": 35.0, "near": 1.0}


def ball_teacher(sampler: str, ndc: dict | None = None) -> GridTeacher:
    """A 32^3 grid over [-1, 1]^3 with an opaque ball of radius 0.5 at the centre, all of one colour (in
    NDC space when `ndc` is given: rays are then NDC rays, t from 0 to 1)."""
    bounds = {"near": 0.0, "far": 1.0, "ndc": ndc} if ndc else {"near": 0.0, "far": 4.0}
    torch.manual_seed(0)  # the same colour network for either sampler
    teacher = GridTeacher(GridConfig(resolution=32, features=4, mlp_width=8, box_min=(-1.0,) * 3,
                                     box_max=(1.0,) * 3, sampler=sampler, **bounds))
    centres = teacher.voxel_centres()
    with torch.no_grad():
        teacher.voxels.density.fill_(-20.0)
        teacher.voxels.density[centres.norm(dim=-1) < 0.5] = 30.0
        teacher.voxels.feature.fill_(1.0)  # one colour: the image differs only where the geometry does
    teacher.update_occupancy(dilation=0)
    return teacher.eval()


@pytest.mark.parametrize("length", [1.0, 2.5])  # the same rays with longer directions: distances scale with them
def test_the_importance_sampler_renders_what_the_march_renders(length):
    heights = torch.linspace(-0.9, 0.9, 19)
    origins = torch.stack([torch.full_like(heights, -2.0), heights, torch.zeros_like(heights)], -1)
    directions = torch.tensor([[length, 0.0, 0.0]]).expand(19, -1)
    with torch.no_grad():
        march = ball_teacher("march")(origins, directions)
        importance = ball_teacher("importance")(origins, directions)
    hit = heights.abs() < 0.4
    assert (importance.opacity[hit] > 0.99).all() and (importance.opacity[heights.abs() > 0.6] < 0.01).all()
    assert torch.allclose(importance.opacity, march.opacity, atol=0.1)  # grazing chords differ most
    voxel = 2.0 / 31 / length  # in the rays' own parameter
    assert (importance.depth[hit] - march.depth[hit]).abs().max() < voxel
    surface = (2.0 - (0.25 - heights[hit] ** 2).sqrt()) / length  # where each ray meets the (voxelised) ball
    assert (importance.depth[hit] - surface).abs().max() < 2 * voxel
    clear = hit | (heights.abs() > 0.7)  # not the grazing chords, whose opacity differs most
    assert (importance.rgb[clear] - march.rgb[clear]).abs().max() < 0.02


def test_the_importance_sampler_trains_every_voxel_along_its_intervals():
    teacher = ball_teacher("importance").train()
    origins, directions = torch.tensor([[-2.0, 0.0, 0.0]]), torch.tensor([[1.0, 0.0, 0.0]])
    out = teacher(origins, directions, randomize=True, generator=torch.Generator().manual_seed(0))
    out.rgb.sum().backward()
    assert teacher.voxels.feature.grad.abs().sum() > 0 and teacher.voxels.density.grad.abs().sum() > 0


def with_floater(teacher: GridTeacher) -> GridTeacher:
    """The ball teacher with a half-transparent slab in front of the ball (x from -0.9 to -0.75)."""
    x = teacher.voxel_centres()[:, 0]
    with torch.no_grad():  # density 3: about a third opaque across the slab
        teacher.voxels.density[(x > -0.9) & (x < -0.75)] = math.log(math.expm1(3.0)) - teacher.density_shift
    teacher.update_occupancy(dilation=0)
    return teacher


def test_training_renders_with_the_importance_sampler_carry_each_rays_distortion():
    origins, directions = torch.tensor([[-2.0, 0.0, 0.0], [-2.0, 0.8, 0.0]]), torch.tensor([[1.0, 0.0, 0.0]] * 2)
    generator = torch.Generator().manual_seed(0)
    clean = ball_teacher("importance").train()(origins, directions, randomize=True, generator=generator)
    spread = with_floater(ball_teacher("importance")).train()(origins, directions, randomize=True, generator=generator)
    assert clean.extras["distortion"].shape == (2,) and (clean.extras["distortion"] >= 0).all()
    assert spread.extras["distortion"][0] > 2 * clean.extras["distortion"][0]  # the slab and the ball: weight apart
    assert torch.allclose(clean.extras["distortion"][1], torch.tensor(0.0), atol=1e-6)  # a ray through nothing
    with torch.no_grad():
        assert "distortion" not in ball_teacher("importance")(origins, directions).extras  # rendering: none
    march = ball_teacher("march").train()(origins, directions, randomize=True, generator=generator)
    assert "distortion" not in march.extras


def test_the_colour_network_applies_the_view_once_per_ray_as_the_concatenated_input_would():
    teacher = GridTeacher(GridConfig(resolution=8, features=4, mlp_width=8, view_frequencies=2,
                                     appearance_codes=3, appearance_dim=2))
    with torch.no_grad():
        teacher.appearance.normal_()
    features, directions = torch.randn(10, 4), torch.randn(3, 3)
    ray_idx, image = torch.tensor([0, 0, 1, 2, 2, 2, 1, 0, 1, 2]), torch.tensor([2, 0, 1])
    view = positional_encoding(directions / directions.norm(dim=-1, keepdim=True), 2)
    concatenated = torch.cat([features, view[ray_idx], teacher.appearance[image][ray_idx]], -1)
    expected = torch.sigmoid(teacher.rgbnet(concatenated))
    assert torch.allclose(teacher._colour(features, directions, ray_idx, image), expected, atol=1e-6)


def test_the_probe_reads_the_density_rendering_sees_and_follows_the_occupancy_map():
    teacher = ball_teacher("importance")
    centres = teacher.voxel_centres()
    assert torch.allclose(teacher.probe_density(centres), teacher.point_density(centres), atol=1e-5)
    teacher.update_occupancy(min_alpha=0.5)  # fewer voxels kept: the probe sees them skipped at once
    assert torch.allclose(teacher.probe_density(centres), teacher.point_density(centres), atol=1e-5)
    other = ball_teacher("importance")
    with torch.no_grad():
        other.voxels.density.add_(1.0)
    teacher.load_state_dict(other.state_dict())  # a load: the probe reads the loaded density
    assert torch.allclose(teacher.probe_density(centres), teacher.point_density(centres), atol=1e-5)


@pytest.mark.parametrize("count", [1, 7, 4096])  # fewer points than threads, and counts that split unevenly
def test_the_probe_reads_the_same_points_on_one_thread_or_several(count):
    teacher = ball_teacher("importance")
    points = torch.rand(count, 3, generator=torch.Generator().manual_seed(count)) * 2.2 - 1.1  # some outside
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        single = teacher.probe_density(points)
        torch.set_num_threads(3)  # three batch entries, each its own share of the points
        shared = teacher.probe_density(points)
    finally:
        torch.set_num_threads(before)
    assert shared.shape == (count,) and torch.equal(shared, single)
    inside = points.norm(dim=-1) < 0.4  # deep in the ball: the probe sees its density
    assert (single[inside] > 1.0).all() and (single[points.abs().max(-1).values > 1.0] == 0).all()


def test_in_ndc_space_the_importance_sampler_renders_what_the_march_renders():
    xs = torch.linspace(-0.5, 0.5, 9)
    origins = torch.stack([xs, torch.zeros_like(xs), torch.full_like(xs, -1.0)], -1)  # world rays from the camera
    directions = torch.stack([xs * 0.2, torch.zeros_like(xs), -torch.ones_like(xs)], -1)
    with torch.no_grad():
        march = ball_teacher("march", NDC)(origins, directions)
        importance = ball_teacher("importance", NDC)(origins, directions)
    assert march.opacity.max() > 0.99  # the rays do cross the ball
    assert torch.allclose(importance.opacity, march.opacity, atol=0.1)
    opaque = march.opacity > 0.99
    assert (importance.depth[opaque] - march.depth[opaque]).abs().max() < 0.05


def test_rays_that_miss_the_box_or_find_it_empty_end_in_the_background():
    origins = torch.tensor([[-2.0, 1.5, 0.0], [-2.0, 0.0, 0.0]])  # above the box; through it
    directions = torch.tensor([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    teacher = ball_teacher("importance")
    with torch.no_grad():
        out = teacher(origins, directions)
        assert out.opacity[0] == 0 and out.depth[0] == teacher.config.far and torch.isfinite(out.rgb).all()
        teacher.update_occupancy(min_alpha=1.0)  # nothing kept: the active box is empty
        empty = teacher(origins, directions)
    assert (empty.opacity == 0).all() and torch.allclose(empty.rgb, torch.ones(2, 3))
    assert (empty.depth == teacher.config.far).all()


def test_an_optimiser_step_moves_the_probe_at_the_next_occupancy_refresh_only():
    teacher = ball_teacher("importance").train()
    optimizer = torch.optim.Adam(teacher.parameters(), lr=0.5)
    centres = teacher.voxel_centres()
    before = teacher.probe_density(centres).clone()
    out = teacher(torch.tensor([[-2.0, 0.1, 0.0]]), torch.tensor([[1.0, 0.0, 0.0]]), randomize=True)
    (out.rgb - torch.tensor([[0.0, 1.0, 0.0]])).pow(2).sum().backward()
    optimizer.step()
    assert torch.equal(teacher.probe_density(centres), before)  # the step alone: the probe as it was
    teacher.update_occupancy(dilation=0)
    after = teacher.probe_density(centres)
    assert not torch.equal(after, before)
    assert torch.allclose(after, teacher.point_density(centres), atol=1e-5)
