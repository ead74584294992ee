"""The student's two encodings: the paper's frequency encoding unchanged, learned feature grids beside it."""

from pathlib import Path

import pytest
import torch

from r2l_viewer.core.cameras import Intrinsics
from r2l_viewer.core.checkpoint import load_scene
from r2l_viewer.core.models import Student, StudentConfig, parameter_count
from r2l_viewer.core.render import render_image
from trainers.presets import get_preset

DATA = Path(__file__).parent.parent / "data"


def test_a_checkpoint_from_before_the_grid_encoding_renders_the_same_pixels():
    """frequency-student-v1.ckpt and its pixels were written by the code before the encoding field existed."""
    scene = load_scene(DATA / "frequency-student-v1.ckpt")
    expected = torch.load(DATA / "frequency-student-v1.pixels.pt", weights_only=True)
    student = scene.build_student()
    assert student.config.encoding == "frequency"
    with torch.no_grad():
        rgb = render_image(student, expected["pose"], Intrinsics.from_dict(expected["intrinsics"]), 4096).rgb
    assert torch.allclose(rgb, expected["rgb"], atol=1e-6, rtol=0)


def test_a_grid_student_from_before_plane_products_and_occupancy_renders_the_same_pixels():
    """grid-student-v1.ckpt (points in a box, depth) and its pixels were written by the code before the combine and
    occupancy fields existed (tests/data/make_grid_student_v1.py)."""
    scene = load_scene(DATA / "grid-student-v1.ckpt")
    expected = torch.load(DATA / "grid-student-v1.pixels.pt", weights_only=True)
    student = scene.build_student()
    with torch.no_grad():
        rgb = render_image(student, expected["pose"], Intrinsics.from_dict(expected["intrinsics"]), 4096).rgb
    assert torch.allclose(rgb, expected["rgb"], atol=1e-6, rtol=0)


def test_the_paper_preset_is_still_the_paper_network():
    config = get_preset("paper").distill.student
    assert config.encoding == "frequency"
    student = Student(config)
    assert parameter_count(student) == 5_917_187 and student.grid_parameters() == []


def test_grid_features_are_read_in_ray_order_from_the_box():
    config = StudentConfig(points_per_ray=3, encoding="grid", grid_planes=(4,), grid_volumes=(2,), grid_channels=2,
                           width=8, blocks=1, box_min=(-1.0, -2.0, 0.0), box_max=(1.0, 2.0, 4.0))
    student = Student(config)
    assert config.input_dim == 3 * 2 * (3 + 1) and student.head.in_features == config.input_dim
    with torch.no_grad():
        student.grids.planes[0].zero_()
        student.grids.volumes[0].fill_(1.0)
        student.grids.planes[0][0, 1] = torch.arange(4.0)[None, :]  # xy plane, channel 1: the x texel index
    points = torch.tensor([[[-1.0, -2.0, 0.0], [0.0, 0.0, 2.0], [1.0, 2.0, 4.0]]])  # box corner, centre, corner
    features = student.encode(points).reshape(3, 8)
    assert torch.allclose(features[:, 1], torch.tensor([0.0, 1.5, 3.0]))  # read along x, in ray order
    assert torch.allclose(features[:, 6:], torch.ones(3, 2))  # the volume level comes after the planes
    outside = student.encode(torch.tensor([[[5.0, 0.0, 2.0]] * 3]))
    assert torch.equal(outside, torch.zeros_like(outside))  # nothing outside the box


def test_grid_and_network_parameters_split_the_student():
    student = Student(StudentConfig(points_per_ray=2, encoding="grid", grid_planes=(4, 8), width=8, blocks=1))
    grid, network = student.grid_parameters(), student.network_parameters()
    assert len(grid) == 2 and len(grid) + len(network) == len(list(student.parameters()))
    assert {id(p) for p in grid}.isdisjoint(id(p) for p in network)


def test_an_unknown_encoding_is_refused():
    with pytest.raises(ValueError, match="encoding"):
        Student(StudentConfig(encoding="hash"))
