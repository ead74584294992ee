"""A student that carries depth: a fourth output of the same last layer, in the teachers' units, on every render path."""

from pathlib import Path

import pytest
import torch

from r2l_viewer.core.cameras import Intrinsics, spherical_pose
from r2l_viewer.core.checkpoint import load_scene
from r2l_viewer.core.fast_student import FastStudent
from r2l_viewer.core.metrics import linear_layer_count
from r2l_viewer.core.models import Student, StudentConfig, model_from_record, model_record, parameter_count
from r2l_viewer.core.render import render_image, render_rays
from r2l_viewer.core.static_render import StaticChunkRenderer

DATA = Path(__file__).parent.parent / "data"
BOX = {"box_min": (-0.8, -0.6, -0.5), "box_max": (0.7, 0.9, 0.4)}
NDC = {"near": 0.0, "far": 1.0, "ndc": {"height": 30, "width": 40, "focal": 35.0, "near": 1.0}}
CONFIGS = {
    "frequency": StudentConfig(points_per_ray=8, frequencies=5, width=24, blocks=2, depth=True),
    "frequency_in_box": StudentConfig(points_per_ray=6, frequencies=3, width=16, blocks=1, depth=True, **BOX),
    "grid_in_box": StudentConfig(points_per_ray=8, encoding="grid", grid_planes=(4, 8), grid_channels=3, width=24,
                                 blocks=2, depth=True, **BOX),
    "grid_ndc": StudentConfig(points_per_ray=4, encoding="grid", grid_planes=(6,), grid_volumes=(4,), grid_channels=2,
                              width=16, blocks=1, depth=True, **NDC),
}


def random_student(config: StudentConfig) -> Student:
    torch.manual_seed(0)
    student = Student(config).eval()
    for p in student.parameters():
        p.data.normal_(0, 0.3)
    return student


def rays(count: int, ndc: bool):
    torch.manual_seed(1)
    directions = torch.nn.functional.normalize(torch.randn(count, 3), dim=-1)
    if ndc:  # forward-facing: cameras near the origin looking down -z
        directions[:, 2] = -directions[:, 2].abs() - 0.5
        return torch.randn(count, 3) * 0.05, directions
    return -4.0 * directions + 0.3 * torch.randn(count, 3), directions


def test_a_checkpoint_from_before_depth_opens_without_depth():
    scene = load_scene(DATA / "frequency-student-v1.ckpt")
    student = scene.build_student()
    assert student.config.depth is False and student.tail.out_features == 3
    with torch.no_grad():
        out = student(*rays(10, ndc=False))
    assert out.depth is None and out.rgb.shape == (10, 3)


def test_depth_is_one_more_output_of_the_same_network():
    plain = StudentConfig(points_per_ray=8, frequencies=4, width=32, blocks=3)
    with_depth = StudentConfig(points_per_ray=8, frequencies=4, width=32, blocks=3, depth=True)
    a, b = Student(plain), Student(with_depth)
    assert linear_layer_count(a) == linear_layer_count(b) == plain.linear_layers  # one evaluation, same layers
    assert parameter_count(b) - parameter_count(a) == 32 + 1  # one more row of the last layer and its bias
    with torch.no_grad():
        out = b(*rays(50, ndc=False))
    assert out.rgb.shape == (50, 3) and out.depth.shape == (50,)
    assert float(out.depth.min()) >= with_depth.near and float(out.depth.max()) <= with_depth.far


def test_depth_spans_near_to_far_in_the_ray_parameter():
    student = Student(StudentConfig(points_per_ray=4, frequencies=2, width=8, blocks=1, near=2.0, far=6.0, depth=True))
    fractions = torch.tensor([[0.1, 0.2, 0.3, 0.0], [0.4, 0.5, 0.6, 0.25], [0.7, 0.8, 0.9, 1.0]])
    out = student.split_outputs(fractions)
    assert torch.equal(out.rgb, fractions[:, :3])
    assert torch.allclose(out.depth, torch.tensor([2.0, 3.0, 6.0]))
    assert torch.allclose(student.depth_fraction(out.depth), fractions[:, 3])


@pytest.mark.parametrize("name", list(CONFIGS))
def test_the_fused_cpu_path_gives_the_students_depth(name):
    student = random_student(CONFIGS[name])
    origins, directions = rays(300, ndc=CONFIGS[name].ndc is not None)
    with torch.no_grad():
        expected = student(origins, directions)
    fast = FastStudent(student)
    out = fast.render(origins, directions)
    assert float(expected.depth.std()) > 1e-3  # the rays do not all give one depth
    assert torch.allclose(out.rgb, expected.rgb, atol=1e-5)
    assert torch.allclose(out.depth, expected.depth, atol=1e-5 * (student.config.far - student.config.near))
    assert torch.equal(fast(origins, directions), out.rgb)  # the viewer's call: colour only


@pytest.mark.parametrize("name", ["frequency", "grid_in_box"])
def test_fixed_chunks_and_bf16_render_depth_too(name):
    student = random_student(CONFIGS[name])
    origins, directions = rays(1000, ndc=False)
    plain = render_rays(student, origins, directions, chunk=300)
    assert plain.depth.shape == (1000,)
    static = StaticChunkRenderer(student, chunk=256)(origins, directions)  # 1000 = 3 x 256 + a padded 232
    assert torch.allclose(static, plain.rgb, atol=1e-6)
    bf16 = render_rays(student, origins, directions, chunk=300, precision="bf16")
    assert bf16.depth.dtype == torch.float32 and not torch.equal(bf16.depth, plain.depth)  # autocast really ran
    assert float((bf16.depth - plain.depth).abs().max()) < 0.05 * (student.config.far - student.config.near)


def test_a_depth_student_round_trips_through_its_record_and_renders_depth_maps():
    student = random_student(CONFIGS["grid_in_box"])
    again = model_from_record(model_record(student))
    assert again.config.depth is True
    pose, intrinsics = spherical_pose(30.0, -30.0, 4.0), Intrinsics.from_fov_x(12, 16, 0.69)
    first, second = render_image(student, pose, intrinsics), render_image(again, pose, intrinsics)
    assert first.depth.shape == (12, 16) and torch.equal(first.depth, second.depth)
