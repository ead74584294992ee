"""The teacher's occupancy for the student: taken at the teacher's density threshold, packed into bits that
round-trip, points placed only where a ray crosses it, background for rays that miss it, on every CPU path."""

import math

import pytest
import torch

from r2l_viewer.core.fast_student import FastStudent
from r2l_viewer.core.models import GridConfig, GridTeacher, Student, StudentConfig, model_from_record, model_record
from r2l_viewer.core.models.grid import EMPTY_RAW
from r2l_viewer.core.occupancy import (density_threshold, occupied_span, occupied_span_every_ray, pack_bits,
                                      teacher_occupancy, unpack_bits)
from r2l_viewer.core.rays import intersect_aabb

BOX_MIN, BOX_MAX = (-1.2, -1.2, -1.2), (1.2, 1.2, 1.2)
CENTRE, RADIUS = torch.tensor([0.2, -0.1, 0.1]), 0.5
CELLS = 12


def raw_for(teacher: GridTeacher, density: float) -> float:
    """The raw grid value whose density (after the teacher's softplus and shift) is `density`."""
    return math.log(math.expm1(density)) - teacher.density_shift


def ball_teacher() -> GridTeacher:
    """A grid teacher whose only matter is a dense ball (CENTRE, RADIUS) in an empty box."""
    teacher = GridTeacher(GridConfig(resolution=24, features=2, mlp_width=8, box_min=BOX_MIN, box_max=BOX_MAX))
    inside = (teacher.voxel_centres() - CENTRE).norm(dim=-1) < RADIUS
    with torch.no_grad():
        teacher.voxels.density.copy_(torch.where(inside, 50.0, EMPTY_RAW)[:, None])
    return teacher


def cell_centres(resolution: int) -> torch.Tensor:
    """Centres [R, R, R, 3] of the occupancy cells over the box, indexed [x, y, z]."""
    axis = torch.tensor(BOX_MIN[0]) + (torch.arange(resolution) + 0.5) / resolution * (BOX_MAX[0] - BOX_MIN[0])
    return torch.stack(torch.meshgrid(axis, axis, axis, indexing="ij"), -1)


def ball_student(depth: bool = True, **options) -> Student:
    config = StudentConfig(points_per_ray=8, encoding="grid", grid_planes=(4, 8), grid_channels=3,
                           grid_combine="product", occupancy_resolution=CELLS, width=16, blocks=2, depth=depth,
                           box_min=BOX_MIN, box_max=BOX_MAX, background=(0.2, 0.4, 0.6), **options)
    torch.manual_seed(0)
    student = Student(config).eval()
    for p in student.parameters():
        p.data.normal_(0, 0.3)
    student.set_occupancy(teacher_occupancy(ball_teacher(), BOX_MIN, BOX_MAX, CELLS))
    return student


def rays_at(targets: torch.Tensor):
    """Rays from a circle of radius 4 around the box towards `targets` [N, 3]."""
    angle = torch.linspace(0, 2 * math.pi, len(targets) + 1)[:-1]
    origins = torch.stack([4 * angle.cos(), 4 * angle.sin(), 0.5 * angle.sin()], -1)
    return origins, torch.nn.functional.normalize(targets - origins, dim=-1)


def test_bits_round_trip():
    cells = torch.rand(5, 5, 5) > 0.6  # 125 cells: not a whole number of bytes
    bits = pack_bits(cells)
    assert bits.dtype == torch.uint8 and bits.numel() == 16
    assert torch.equal(unpack_bits(bits, 5), cells)


@pytest.mark.parametrize("factor, occupied", [(1.05, True), (0.95, False)])
def test_a_cell_is_occupied_where_the_teachers_density_passes_the_threshold(factor, occupied):
    teacher = GridTeacher(GridConfig(resolution=16, features=2, mlp_width=8, box_min=BOX_MIN, box_max=BOX_MAX))
    threshold = density_threshold(BOX_MIN, BOX_MAX, 8)
    with torch.no_grad():
        teacher.voxels.density.fill_(raw_for(teacher, factor * threshold))
    assert torch.equal(teacher_occupancy(teacher, BOX_MIN, BOX_MAX, 8), torch.full((8, 8, 8), occupied))


def test_the_occupancy_is_where_the_teachers_matter_is():
    cells = teacher_occupancy(ball_teacher(), BOX_MIN, BOX_MAX, CELLS)
    distance = (cell_centres(CELLS) - CENTRE).norm(dim=-1)
    cell = (BOX_MAX[0] - BOX_MIN[0]) / CELLS
    assert cells[distance < RADIUS - cell].all()
    assert not cells[distance > RADIUS + cell].any()


def test_the_occupancy_round_trips_through_the_record():
    student = ball_student()
    again = model_from_record(model_record(student))
    assert torch.equal(again.occupancy_bits, student.occupancy_bits)
    assert torch.equal(again.occupied_cells, student.occupied_cells)
    assert again.occupied_cells.sum() > unpack_bits(again.occupancy_bits, CELLS).sum()  # grown by a cell to sample


def test_points_go_only_where_the_ray_crosses_the_occupancy():
    student = ball_student()
    origins, directions = rays_at(CENTRE + 0.3 * torch.randn(50, 3))
    points = student.ray_points(origins, directions)
    cell_diagonal = math.sqrt(3) * (BOX_MAX[0] - BOX_MIN[0]) / CELLS
    assert float((points - CENTRE).norm(dim=-1).max()) < RADIUS + 2.5 * cell_diagonal  # not across the whole box
    assert float((points - CENTRE).norm(dim=-1).max()) < 1.5  # (the box's half diagonal is 2.1)


def ray_parameters(points: torch.Tensor, origins: torch.Tensor, directions: torch.Tensor) -> torch.Tensor:
    """t [N, P] of points [N, P, 3] on unit-direction rays."""
    return ((points - origins[:, None]) * directions[:, None]).sum(-1)


def test_spaced_points_crowd_towards_the_first_occupied_cell_and_even_ones_stay_where_they_were():
    origins, directions = rays_at(CENTRE + 0.3 * torch.randn(20, 3))
    near, far, _ = ball_student().ray_span(origins, directions)
    u = torch.linspace(0.0, 1.0, 8)
    for spacing in (1.0, 1.5, 2.0):
        points = ball_student(point_spacing=spacing).ray_points(origins, directions)
        expected = near[:, None] * (1 - u.pow(spacing)) + far[:, None] * u.pow(spacing)
        assert torch.allclose(ray_parameters(points, origins, directions), expected, atol=1e-5)
    gaps = ray_parameters(points, origins, directions).diff(dim=1)
    assert (gaps[:, 0] < 0.1 * gaps[:, -1]).all()  # at u^2: the first gap 1/13 of the last


def test_the_spacing_applies_only_with_an_occupancy_grid():
    student = Student(StudentConfig(points_per_ray=8, encoding="grid", grid_planes=(4,), width=8, blocks=1,
                                    box_min=BOX_MIN, box_max=BOX_MAX, point_spacing=2.0))
    origins, directions = rays_at(CENTRE + 0.3 * torch.randn(20, 3))
    enter, leave = intersect_aabb(origins, directions, torch.tensor(BOX_MIN), torch.tensor(BOX_MAX))
    enter, leave = (v.clamp(student.config.near, student.config.far) for v in (enter, leave))
    t = ray_parameters(student.ray_points(origins, directions), origins, directions)
    u = torch.linspace(0.0, 1.0, 8)
    assert torch.allclose(t, enter[:, None] * (1 - u) + leave[:, None] * u, atol=1e-5)


@pytest.mark.parametrize("spacing", [1.0, 1.5])
def test_a_ray_that_misses_the_occupancy_shows_the_background_on_every_cpu_path(spacing):
    student = ball_student(point_spacing=spacing)
    far_side = CENTRE + torch.tensor([0.0, 0.0, 1.0]) * 1.05  # in the box, well above the ball
    origins, directions = rays_at(torch.cat([far_side.expand(20, 3), CENTRE.expand(20, 3)]))
    with torch.no_grad():
        plain = student(origins, directions)
    fast = FastStudent(student).render(origins, directions)
    background = torch.tensor(student.config.background)
    assert torch.equal(plain.rgb[:20], background.expand(20, 3)) and torch.equal(fast.rgb[:20], plain.rgb[:20])
    assert torch.allclose(plain.depth[:20], torch.full((20,), student.config.far))
    assert not torch.isclose(plain.rgb[20:], background).all(-1).any()  # rays through the ball are the network's
    assert torch.allclose(fast.rgb, plain.rgb, atol=1e-5) and torch.allclose(fast.depth, plain.depth, atol=1e-4)


def every_ray(student: Student, origins, directions) -> torch.Tensor:
    """The student's outputs with the network run on every ray and the background put in afterwards."""
    points, empty = student.placed_points(origins, directions)
    return student.with_background(student.forward_encoded(student.encode(points)), empty)


def test_the_network_runs_only_on_rays_that_cross_the_occupancy_and_gives_the_same_values_and_gradients():
    student = ball_student().train()
    far_side = CENTRE + torch.tensor([0.0, 0.0, 1.0]) * 1.05
    origins, directions = rays_at(torch.cat([far_side.expand(30, 3), CENTRE + 0.2 * torch.randn(30, 3)]))
    seen = []
    student.head.register_forward_hook(lambda _module, inputs, _out: seen.append(inputs[0].shape[0]))
    out = student(origins, directions)
    assert seen == [30]  # the 30 rays above the ball never reach the network
    full = every_ray(student, origins, directions)
    skipped = torch.cat([out.rgb, student.depth_fraction(out.depth)[:, None]], 1)
    assert torch.allclose(skipped, full, atol=1e-6)
    grads = [torch.autograd.grad(values.square().sum(), student.parameters()) for values in (skipped, full)]
    assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(*grads))
    fast = FastStudent(student.eval())
    network, rows = fast.network, []
    fast.network = lambda h: rows.append(h.shape[0]) or network(h)
    assert torch.allclose(fast.outputs(origins, directions), full.detach(), atol=1e-5) and rows == [30]


def test_with_skipping_off_every_ray_runs_the_network_for_the_same_values():
    student = ball_student()
    far_side = CENTRE + torch.tensor([0.0, 0.0, 1.0]) * 1.05
    origins, directions = rays_at(torch.cat([far_side.expand(5, 3), CENTRE + 0.2 * torch.randn(5, 3)]))
    seen = []
    student.head.register_forward_hook(lambda _module, inputs, _out: seen.append(inputs[0].shape[0]))
    with torch.no_grad():
        skipped = student(origins, directions).rgb
        student.skips_empty_rays = False
        every = student(origins, directions).rgb
    assert seen == [5, 10] and torch.allclose(skipped, every, atol=1e-6)


def test_a_frame_with_no_ray_crossing_the_occupancy_is_all_background():
    student = ball_student()
    far_side = CENTRE + torch.tensor([0.0, 0.0, 1.0]) * 1.05
    origins, directions = rays_at(far_side.expand(10, 3))
    background = torch.tensor(student.config.background)
    with torch.no_grad():
        assert torch.equal(student(origins, directions).rgb, background.expand(10, 3))
    assert torch.equal(FastStudent(student).render(origins, directions).rgb, background.expand(10, 3))


def test_a_training_batch_with_no_ray_crossing_the_occupancy_still_backpropagates():
    student = ball_student().train()
    far_side = CENTRE + torch.tensor([0.0, 0.0, 1.0]) * 1.05
    out = student(*rays_at(far_side.expand(10, 3)))
    out.rgb.sum().backward()  # every parameter took part (DistributedDataParallel needs that), with no gradient
    assert all(p.grad is not None and not p.grad.any() for p in student.parameters())


def test_the_span_search_on_the_rays_that_hit_the_box_equals_the_traceable_search_on_every_ray():
    student = ball_student()
    torch.manual_seed(1)
    # rays towards the ball, towards the empty part of the box, and rays that miss the box (aimed far above it)
    targets = torch.cat([CENTRE + 0.3 * torch.randn(20, 3), torch.rand(20, 3) * 2.4 - 1.2,
                         torch.tensor([0.0, 0.0, 9.0]) + torch.randn(20, 3)])
    origins, directions = rays_at(targets)
    enter, leave = intersect_aabb(origins, directions, student.box_min, student.box_max)
    near, far = enter.clamp(2.0, 6.0), leave.clamp(2.0, 6.0)
    hit = far > near + 1e-4
    assert 0 < int(hit.sum()) < len(hit)
    cells, box = student.occupied_cells, (student.box_min, student.box_max)
    first, last, crossed = occupied_span(origins, directions, near, far, hit, cells, *box)
    every = occupied_span_every_ray(origins, directions, near, far, cells, *box, hit=hit)
    every_first, every_last, every_crossed = every
    assert torch.equal(crossed, every_crossed) and 0 < int(crossed.sum()) < int(hit.sum())
    assert torch.equal(first[crossed], every_first[crossed]) and torch.equal(last[crossed], every_last[crossed])


def test_the_span_search_with_no_ray_in_the_box_finds_nothing():
    student = ball_student()
    origins, directions = rays_at(torch.tensor([0.0, 0.0, 9.0]) + torch.randn(8, 3))
    near, far = torch.full((8,), 2.0), torch.full((8,), 6.0)
    first, last, crossed = occupied_span(origins, directions, near, far, torch.zeros(8, dtype=torch.bool),
                                         student.occupied_cells, student.box_min, student.box_max)
    assert not crossed.any() and first.shape == last.shape == (8,)
