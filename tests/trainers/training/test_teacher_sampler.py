"""Which sampler a new grid teacher takes: the march for an object in a box, the importance sampler where the
scene's space is full (forward-facing NDC, contracted unbounded), or what the user asked for."""

from __future__ import annotations

import dataclasses

import pytest

from r2l_viewer.core.datasets import load_dataset
from trainers.configs import TeacherConfig
from trainers.training.teacher_models import build_teacher


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
