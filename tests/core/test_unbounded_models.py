"""The grid teacher and the student in an unbounded scene's contracted space, and the teacher's appearance codes."""

from __future__ import annotations

import pytest
import torch

from r2l_viewer.core.contraction import ContractedSpace
from r2l_viewer.core.fast_student import FastStudent
from r2l_viewer.core.models import GridConfig, GridTeacher, Student, StudentConfig

SPACE = ContractedSpace((0.0, 0.0, 0.0), 2.0)


def contracted_teacher(**kwargs) -> GridTeacher:
    return GridTeacher(GridConfig(resolution=32, features=4, mlp_width=8, box_min=(-2.0,) * 3, box_max=(2.0,) * 3,
                                  near=0.0, far=SPACE.depth_far, contraction=SPACE.to_dict(), **kwargs))


def fill(teacher: GridTeacher, where) -> None:
    """Dense matter in the voxels whose contracted centres satisfy `where` (a function of [V, 3] centres)."""
    centres = teacher.voxel_centres()
    with torch.no_grad():
        teacher.voxels.density.fill_(-20.0)
        teacher.voxels.density[where(centres)] = 50.0
    teacher.update_occupancy(dilation=0)


@pytest.mark.parametrize("sampler", ["march", "importance"])
def test_matter_near_the_centre_is_met_at_its_true_distance(sampler):
    teacher = contracted_teacher(sampler=sampler)
    fill(teacher, lambda c: c.norm(dim=-1) < 0.25)  # a ball of radius 0.5 scene units (0.25 in radii)
    out = teacher(torch.tensor([[0.0, 0.0, 1.5]]), torch.tensor([[0.0, 0.0, -1.0]]))
    assert float(out.opacity[0].detach()) > 0.99 and 0.85 < float(out.depth[0].detach()) < 1.15  # 1 unit away


@pytest.mark.parametrize("sampler", ["march", "importance"])
def test_a_far_background_is_modelled_in_the_shell_and_empty_rays_end_at_the_path_end(sampler):
    teacher = contracted_teacher(sampler=sampler)
    fill(teacher, lambda c: c.abs().amax(-1) > 1.7)  # the far shell: matter far away, all around
    origins = torch.zeros(4, 3)
    directions = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.3], [-1.0, -1.0, 0.0], [0.0, 0.0, 1.0]])
    out = teacher(origins, directions)
    assert (out.opacity > 0.99).all()  # no ray escapes: the background is part of the model
    fill(teacher, lambda c: c.abs().amax(-1) > 5.0)  # nothing at all
    empty = teacher(origins, directions)
    assert torch.allclose(empty.rgb, torch.ones(4, 3), atol=1e-3)
    assert (empty.depth > 1.9 * SPACE.radius).all() and (empty.depth <= SPACE.depth_far).all()


def test_appearance_codes_pick_the_images_exposure_and_new_views_take_their_mean():
    teacher = contracted_teacher(appearance_codes=3, appearance_dim=2, mlp_layers=1)
    fill(teacher, lambda c: c.norm(dim=-1) < 0.25)
    with torch.no_grad():
        teacher.appearance.copy_(torch.tensor([[3.0, 0.0], [-3.0, 0.0], [0.0, 0.0]]))  # bright, dark, their mean
        teacher.rgbnet[0].weight.zero_()
        teacher.rgbnet[0].weight[:, -2] = 1.0  # the hidden layer reads the code's first value, shifted positive
        teacher.rgbnet[0].bias.fill_(3.5)
        teacher.rgbnet[-1].weight.fill_(0.05)
        teacher.rgbnet[-1].bias.zero_()
    o, d = torch.tensor([[0.0, 0.0, 1.5]] * 3), torch.tensor([[0.0, 0.0, -1.0]] * 3)
    by_image = teacher(o, d, image=torch.tensor([0, 1, 2])).rgb
    assert by_image[0, 0] > by_image[2, 0] > by_image[1, 0]
    assert torch.allclose(teacher(o, d).rgb, by_image[2:3].expand(3, -1), atol=1e-5)  # the mean code is image 2's
    loss = teacher(o, d, image=torch.tensor([0, 1, 2])).rgb.sum()
    loss.backward()
    assert teacher.appearance.grad is not None and teacher.appearance.grad.abs().sum() > 0


@pytest.mark.parametrize("encoding", ["frequency", "grid"])
def test_the_student_encodes_contracted_points_and_its_fast_path_agrees(encoding):
    config = StudentConfig(points_per_ray=6, encoding=encoding, frequencies=3, grid_planes=(8, 16), grid_channels=2,
                           width=16, blocks=2, near=0.0, far=SPACE.depth_far, scale=0.5, contraction=SPACE.to_dict(),
                           depth=True)
    torch.manual_seed(0)
    student = Student(config).eval()
    origins = torch.randn(50, 3) * 0.8
    directions = torch.randn(50, 3)
    points = student.ray_points(origins, directions)
    assert points.abs().max() <= 2.0 and (points[:, -1].abs().amax(-1) > 1.99).all()  # out to the far shell
    with torch.inference_mode():
        plain = student(origins, directions)
        fast = FastStudent(student).render(origins, directions)
    assert torch.allclose(fast.rgb, plain.rgb, atol=1e-5) and torch.allclose(fast.depth, plain.depth, atol=1e-4)
