"""Presets against the paper's recipe (DESIGN.md section 2), the learning-rate schedule, and pseudo views placed
from the training cameras."""

import dataclasses
import math

import pytest
import torch

from r2l_viewer.core.assets import demo_checkpoint_path
from r2l_viewer.core.cameras import pose_angles, spherical_pose
from r2l_viewer.core.checkpoint import load_scene
from r2l_viewer.core.datasets import load_demo
from r2l_viewer.core.datasets.base import orbit_of_inward_cameras
from r2l_viewer.core.models import Student, StudentConfig, parameter_count
from r2l_viewer.core.metrics import linear_layer_count
from trainers.jobs.distill import Distill
from trainers.presets import PRESETS, get_preset
from trainers.training.responsive import linear_flops_per_ray
from trainers.training.schedule import warmup_then_decay
from trainers.training.views import pseudo_focal, pseudo_pose
from trainers.storage.workspace import RunContext, Workspace


def test_the_paper_preset_is_the_papers_recipe():
    p = get_preset("paper")
    student = Student(p.distill.student)
    assert (p.distill.student.points_per_ray, p.distill.student.frequencies) == (16, 10)
    assert p.distill.student.input_dim == 1008 and p.distill.student.width == 256
    assert linear_layer_count(student) == 88 and parameter_count(student) == 5_917_187
    assert p.distill.student.depth is False  # colour only, as published
    assert linear_flops_per_ray(student) == pytest.approx(11.79e6, rel=1e-3)
    assert p.pseudo.images == 10_000 and tuple(p.pseudo.focal_scale) == (1.0, 2.0)
    d = p.distill
    assert (d.batch_rays, d.hard_fraction, d.steps) == (81_920, 0.2, 600_000)
    assert (d.warmup_lr, d.lr, d.warmup_steps, d.decay_steps) == (1e-4, 5e-4, 200, 500_000)
    assert d.normalize_points is False and d.points_in_box is False  # raw coordinates from near to far, as published
    assert p.finetune.steps == 1000
    assert p.teacher.kind == "nerf" and p.teacher.steps == 200_000
    assert (p.teacher.nerf.coarse_samples, p.teacher.nerf.fine_samples) == (64, 128)


def test_the_distill_schedule_warms_up_then_decays_tenfold_every_decay_steps(tmp_path):
    job = Distill(get_preset("paper").distill, RunContext(Workspace(tmp_path / "s.ckpt"), device="cpu"))
    assert job.learning_rate(0) == pytest.approx(1e-4)
    assert job.learning_rate(100) == pytest.approx(3e-4)  # linear from 1e-4 to 5e-4 over 200 steps
    assert job.learning_rate(200) == pytest.approx(5e-4 * 0.1 ** (200 / 500_000))
    assert job.learning_rate(500_000) == pytest.approx(5e-5)
    assert job.learning_rate(600_000) == pytest.approx(5e-4 * 0.1 ** 1.2)
    rates = [warmup_then_decay(s, 5e-4, 200, 1e-4, 500_000) for s in range(0, 600_001, 1000)]
    assert all(a > b for a, b in zip(rates[1:], rates[2:]))  # falling after the warm-up


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_is_valid_and_smaller_presets_have_smaller_students(name):
    from r2l_viewer.core.config import validate

    preset = get_preset(name)
    for job in ("teacher", "pseudo", "distill", "finetune", "evaluate"):
        validate(getattr(preset, job))
    assert preset.distill.decay_steps >= preset.distill.warmup_steps
    if name == "tiny":
        assert linear_flops_per_ray(Student(preset.distill.student)) < linear_flops_per_ray(Student(get_preset("paper").distill.student)) / 10


def _meta_from_cameras(poses, intrinsics):
    """Scene metadata as the dataset loaders derive it from the training cameras."""
    meta = load_demo(40, splits=("val",)).meta
    meta.intrinsics = intrinsics
    orbit = orbit_of_inward_cameras(poses)
    for key, value in orbit.items():
        setattr(meta, key, value)
    return meta


def test_pseudo_poses_follow_the_training_cameras_not_a_fixed_radius():
    center = (0.5, -1.0, 0.25)
    cameras = torch.stack([spherical_pose(az, el, 7.0, center) for az in range(-180, 180, 30) for el in (12.5, 25, 37.5)])
    meta = _meta_from_cameras(cameras, load_demo(40, splits=("val",)).meta.intrinsics)
    assert meta.orbit_radius == pytest.approx(7.0, rel=1e-3) and meta.elevation_range == (12, 38)
    gen = torch.Generator().manual_seed(0)
    angles = []
    for _ in range(300):
        pose = pseudo_pose(meta, gen)
        azimuth, elevation, radius = pose_angles(pose, meta.orbit_center, meta.orbit_up)
        angles.append((azimuth, elevation))
        assert radius == pytest.approx(7.0, rel=1e-3)
        towards = torch.tensor(meta.orbit_center) - pose[:3, 3]
        assert torch.allclose(-pose[:3, 2], towards / towards.norm(), atol=1e-4)  # it looks at the orbit centre
    elevations = [e for _, e in angles]
    assert 12 - 1e-3 <= min(elevations) < 15 and 35 < max(elevations) <= 38 + 1e-3
    azimuths = [a for a, _ in angles]
    assert min(azimuths) < -170 and max(azimuths) > 170  # all round, as the training cameras
    wider = pseudo_pose(meta, torch.Generator().manual_seed(1), radius_scale=(2.0, 2.0))
    assert pose_angles(wider, meta.orbit_center, meta.orbit_up)[2] == pytest.approx(14.0, rel=1e-3)


def test_pseudo_focal_lengths_zoom_in_by_one_to_two():
    gen = torch.Generator().manual_seed(0)
    focals = [pseudo_focal(100.0, gen) for _ in range(500)]
    assert 100.0 <= min(focals) < 103.0 and 197.0 < max(focals) < 200.0
    assert math.isclose(sum(focals) / len(focals), 150.0, rel_tol=0.05)


@pytest.mark.parametrize("name", ["tiny", "standard"])
def test_the_cpu_and_gpu_presets_students_give_depth(name):
    preset = get_preset(name)
    assert preset.distill.student.depth is True
    assert preset.distill.depth_weight > 0 and preset.finetune.depth_weight > 0


def test_the_bundled_demo_carries_the_tiny_presets_student():
    """Every student setting the preset chooses (the scene's own fields aside) is the bundled demo's: `make
    demo-assets` was rerun when the preset last changed."""
    built = load_scene(demo_checkpoint_path()).build_student().config
    preset = get_preset("tiny").distill.student
    as_value = lambda v: tuple(v) if isinstance(v, list) else v  # noqa: E731
    for name in (f.name for f in dataclasses.fields(StudentConfig) if not f.metadata["scene"]):
        assert as_value(getattr(built, name)) == as_value(getattr(preset, name)), name
