"""The live view's renderer: the fast student on a CPU chunk team gives the same image as the plain model."""

import dataclasses

import torch

from r2l_viewer.app.workers.render_worker import RayRenderer, render_interruptible
from r2l_viewer.core.cameras import Intrinsics, spherical_pose
from r2l_viewer.core.models import GridConfig, GridTeacher, NerfConfig, Student, StudentConfig, VanillaNerf
from r2l_viewer.core.render import render_image, render_rays
from r2l_viewer.core.rays import camera_rays


def small_student() -> Student:
    torch.manual_seed(0)
    student = Student(StudentConfig(points_per_ray=4, frequencies=3, width=16, blocks=2)).eval()
    for p in student.parameters():
        p.data.normal_(0, 0.3)
    return student


def test_the_team_renders_the_students_image():
    student = small_student()
    renderer = RayRenderer(student)
    if torch.get_num_threads() > 1:
        assert renderer.team is not None and renderer.fast is not None
    intrinsics = Intrinsics.from_focal(50, 60, 70.0)
    pose = spherical_pose(30.0, -30.0, 4.0)
    image = render_interruptible(renderer, pose, intrinsics, chunk=256)
    origins, directions = camera_rays(pose, intrinsics)
    with torch.no_grad():
        expected = student(origins.reshape(-1, 3), directions.reshape(-1, 3)).rgb.reshape(50, 60, 3)
    assert image.shape == (50, 60, 3) and torch.allclose(image, expected, atol=1e-4)


def test_an_abandoned_frame_gives_nothing():
    renderer = RayRenderer(small_student())
    calls = []
    abandon = lambda: calls.append(1) or len(calls) > 2  # noqa: E731
    pose = spherical_pose(0.0, -30.0, 4.0)
    assert render_interruptible(renderer, pose, Intrinsics.from_focal(64, 64, 80.0), abandon, chunk=128) is None


def test_teachers_render_without_a_team():
    torch.manual_seed(0)
    teacher = GridTeacher(GridConfig(resolution=8, features=2, mlp_width=8)).eval()
    renderer = RayRenderer(teacher)
    assert renderer.team is None
    intrinsics = Intrinsics.from_focal(12, 10, 15.0)
    pose = spherical_pose(10.0, -20.0, 4.0)
    origins, directions = camera_rays(pose, intrinsics)
    with torch.no_grad():
        expected = render_rays(teacher, origins.reshape(-1, 3), directions.reshape(-1, 3), 4096).rgb
    assert torch.allclose(render_interruptible(renderer, pose, intrinsics), expected.reshape(12, 10, 3), atol=1e-5)


def test_a_student_in_bf16_takes_the_plain_path_and_stays_close_to_fp32():
    student = small_student()
    low = RayRenderer(student, precision="bf16")  # what "auto" picks on CUDA, exercised here on the CPU
    assert low.precision == "bf16" and low.fast is None and low.team is None
    assert RayRenderer(student).precision == "fp32"  # auto on a CPU
    intrinsics = Intrinsics.from_focal(20, 20, 25.0)
    pose = spherical_pose(45.0, -30.0, 4.0)
    image = render_interruptible(low, pose, intrinsics)
    reference = render_interruptible(RayRenderer(student, precision="fp32"), pose, intrinsics)
    assert image.dtype == torch.float32 and (image - reference).abs().max() < 0.05


def test_teachers_render_in_fp32_whatever_the_precision():
    teacher = GridTeacher(GridConfig(resolution=8, features=2, mlp_width=8)).eval()
    assert RayRenderer(teacher, precision="bf16").precision == "fp32"


def test_a_nerf_pytorch_teacher_shows_its_pixels_through_their_corners_as_everywhere_else():
    """The live view renders an imported nerf-pytorch teacher as render_image (and pseudo data) do: one ray per
    pixel corner; the same network through centres gives another picture."""
    torch.manual_seed(1)
    config = NerfConfig(depth=2, width=16, skip=0, coarse_samples=6, fine_samples=6, pixel_offset=0.0)
    teacher = VanillaNerf(config).eval()
    intrinsics, pose = Intrinsics.from_focal(6, 8, 6.0), spherical_pose(20.0, -25.0, 4.0)
    live = render_interruptible(RayRenderer(teacher), pose, intrinsics)
    assert torch.allclose(live, render_image(teacher, pose, intrinsics).rgb, atol=1e-6)
    origins, directions = camera_rays(pose, intrinsics, pixel_offset=0.0)
    with torch.no_grad():
        corners = render_rays(teacher, origins.reshape(-1, 3), directions.reshape(-1, 3)).rgb.reshape(6, 8, 3)
    assert torch.allclose(live, corners, atol=1e-6)
    centred = VanillaNerf(dataclasses.replace(config, pixel_offset=0.5)).eval()
    centred.load_state_dict(teacher.state_dict())
    assert not torch.allclose(render_interruptible(RayRenderer(centred), pose, intrinsics), live, atol=1e-4)
