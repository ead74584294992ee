"""The viewer's fast student path computes what Student.forward computes."""

import pytest
import torch

from r2l_viewer.core.fast_student import FastStudent, fast_path
from r2l_viewer.core.models import GridConfig, GridTeacher, Student, StudentConfig
from r2l_viewer.core.rays import intersect_aabb

BOX = {"box_min": (-0.8, -0.6, -0.5), "box_max": (0.7, 0.9, 0.4)}


def random_student(config: StudentConfig) -> Student:
    torch.manual_seed(0)
    student = Student(config).eval()
    for p in student.parameters():
        p.data.normal_(0, 0.2)
    return student


def rays_towards_the_origin(count: int, spread: float):
    directions = torch.nn.functional.normalize(torch.randn(count, 3), dim=-1)
    return -4.0 * directions + spread * torch.randn(count, 3), directions


@pytest.mark.parametrize("config", [
    StudentConfig(points_per_ray=8, frequencies=6, width=32, blocks=3, center=(0.1, 0.0, -0.2), scale=0.8),
    StudentConfig(points_per_ray=4, frequencies=0, width=16, blocks=0),
    StudentConfig(points_per_ray=16, frequencies=10, width=24, blocks=2),
    StudentConfig(points_per_ray=4, frequencies=3, width=16, blocks=2, near=0.0, far=1.0,
                  ndc={"height": 30, "width": 40, "focal": 35.0, "near": 1.0}),
    StudentConfig(points_per_ray=8, frequencies=4, width=24, blocks=2, center=(0.1, 0.2, 0.0), scale=0.7, **BOX),
    StudentConfig(points_per_ray=8, encoding="grid", grid_planes=(4, 8), grid_channels=3, width=24, blocks=2, **BOX),
    StudentConfig(points_per_ray=5, encoding="grid", grid_planes=(6,), grid_volumes=(3, 5), grid_channels=2,
                  width=16, blocks=1, center=(0.1, 0.2, 0.0), scale=0.4),
    StudentConfig(points_per_ray=4, encoding="grid", grid_planes=(), grid_volumes=(4,), grid_channels=2, width=16,
                  blocks=1, near=0.0, far=1.0, ndc={"height": 30, "width": 40, "focal": 35.0, "near": 1.0}),
    StudentConfig(points_per_ray=6, encoding="grid", grid_planes=(4, 8), grid_volumes=(3,), grid_channels=2,
                  grid_combine="product", occupancy_resolution=6, width=16, blocks=2, **BOX),
])
def test_fast_student_matches_the_student(config):
    student = random_student(config)
    origins, directions = rays_towards_the_origin(300, spread=0.1)
    if config.ndc:
        directions[:, 2] = -directions[:, 2].abs()
        origins = torch.zeros(300, 3)
    with torch.no_grad():
        expected = student(origins, directions).rgb
    assert torch.allclose(FastStudent(student)(origins, directions), expected, atol=1e-5)


def test_fast_student_places_points_inside_the_box_like_the_student():
    student = random_student(StudentConfig(points_per_ray=6, frequencies=3, width=16, blocks=1, **BOX))
    origins, directions = rays_towards_the_origin(400, spread=1.0)
    enter, leave = intersect_aabb(origins, directions, student.box_min, student.box_max)
    hit = leave.clamp(2.0, 6.0) > enter.clamp(2.0, 6.0) + 1e-4
    assert 0 < int(hit.sum()) < len(hit), "the rays should both cross and miss the box"
    points = student.ray_points(origins, directions)
    inside = ((points >= student.box_min - 1e-4) & (points <= student.box_max + 1e-4)).all(-1).all(-1)
    assert inside[hit].all()
    with torch.no_grad():
        expected = student(origins, directions).rgb
    assert torch.allclose(FastStudent(student)(origins, directions), expected, atol=1e-4)


def test_the_fast_path_takes_the_weights_once():
    student = random_student(StudentConfig(points_per_ray=2, frequencies=1, width=8, blocks=1))
    origins, directions = rays_towards_the_origin(20, spread=0.1)
    fast = FastStudent(student)
    before = fast(origins, directions)
    with torch.no_grad():
        for p in student.parameters():
            p.add_(0.5)
    assert torch.equal(fast(origins, directions), before)


def test_only_plain_students_take_the_fast_path():
    assert fast_path(Student(StudentConfig(width=8, blocks=1, points_per_ray=2, frequencies=1))) is not None
    assert fast_path(GridTeacher(GridConfig(resolution=8, features=2, mlp_width=8))) is None


@pytest.mark.parametrize("config", [
    StudentConfig(points_per_ray=6, encoding="grid", grid_planes=(4, 8), grid_volumes=(3,), grid_channels=2,
                  grid_combine="product", occupancy_resolution=6, width=16, blocks=2, depth=True, **BOX),
    StudentConfig(points_per_ray=5, encoding="grid", grid_planes=(6,), grid_channels=2, width=16, blocks=1,
                  depth=True, **BOX),
])
def test_the_fast_grid_path_matches_on_rays_that_miss_the_box_or_its_occupancy(config):
    student = random_student(config)
    if config.uses_occupancy:  # occupied only in the half of the box with x > 0: many rays cross nothing
        cells = torch.zeros(6, 6, 6, dtype=torch.bool)
        cells[3:] = True
        student.set_occupancy(cells)
    origins, directions = rays_towards_the_origin(400, spread=1.0)
    enter, leave = intersect_aabb(origins, directions, student.box_min, student.box_max)
    hit = leave.clamp(2.0, 6.0) > enter.clamp(2.0, 6.0) + 1e-4
    assert 0 < int(hit.sum()) < len(hit), "the rays should both cross and miss the box"
    with torch.no_grad():
        expected = student(origins, directions)
    fast = FastStudent(student).render(origins, directions)
    assert torch.allclose(fast.rgb, expected.rgb, atol=1e-5)
    assert torch.allclose(fast.depth, expected.depth, atol=1e-4)
    if config.uses_occupancy:
        background = torch.tensor(config.background)
        assert 0 < int(torch.isclose(fast.rgb, background).all(-1).sum()) < len(hit)
