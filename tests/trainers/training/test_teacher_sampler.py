"""Which sampler a new grid teacher takes: the march for an object in a box, the importance sampler where the
scene's space is full (forward-facing NDC, contracted unbounded), or what the user asked for."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch
import torch.nn.functional as F

from r2l_viewer.core.datasets import load_dataset
from r2l_viewer.core.rays import camera_rays
from trainers.configs import TeacherConfig
from trainers.training.teacher_models import TeacherOptimisation, build_teacher


@pytest.mark.parametrize("folder, downscale, expected", [("lego", 16, "march"), ("fern", 32, "importance"),
                                                         ("fruit", 32, "importance")])
def test_auto_picks_the_sampler_from_the_scene(lego_dir, fern_dir, captures_dir, folder, downscale, expected):
    source = {"lego": lego_dir, "fern": fern_dir, "fruit": captures_dir / "fruit"}[folder]
    dataset = load_dataset(source, downscale, ("train",))
    assert build_teacher(TeacherConfig(start_resolution=8), dataset).config.sampler == expected


def test_the_users_choice_of_sampler_wins(fern_dir):
    dataset = load_dataset(fern_dir, 32, ("train",))
    config = dataclasses.replace(TeacherConfig(start_resolution=8), sampler="march")
    assert build_teacher(config, dataset).config.sampler == "march"


def test_the_distortion_loss_is_added_at_its_weight_and_thins_a_floater(fern_dir):
    dataset = load_dataset(fern_dir, 32, ("train",))
    config = dataclasses.replace(TeacherConfig(start_resolution=8), distortion=0.01)
    teacher = build_teacher(config, dataset).train()
    with torch.no_grad():  # a half-transparent slab across the frustum, halfway in NDC depth: a floater
        z = teacher.voxel_centres()[:, 2]
        teacher.voxels.density[z.abs() < 0.3] = math.log(math.expm1(3.0)) - teacher.density_shift
    teacher.refresh_probe()
    train = dataset.split("train")
    origins, directions = (t.reshape(-1, 3)[::7][:256] for t in camera_rays(train.poses[0], train.intrinsics_of(0)))
    out = teacher(origins, directions, randomize=True, generator=torch.Generator().manual_seed(0))
    target = torch.rand(256, 3, generator=torch.Generator().manual_seed(1))
    with_weight = TeacherOptimisation(teacher, config, dataset).loss(out, target)
    without = TeacherOptimisation(teacher, dataclasses.replace(config, distortion=0.0), dataset).loss(out, target)
    assert torch.allclose(without, F.mse_loss(out.rgb, target))
    assert torch.allclose(with_weight, without + 0.01 * out.extras["distortion"].mean())
    (with_weight - without).backward()  # the distortion alone: lower density in the slab lowers it
    assert teacher.voxels.density.grad[teacher.voxels.cells[z.abs() < 0.3].long()].sum() > 0
