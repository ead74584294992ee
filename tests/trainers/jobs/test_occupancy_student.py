"""The student with multiplied plane reads and the teacher's occupancy, distilled on the demo scene: its occupancy is
the teacher's and round-trips through scene.ckpt, its loss falls, and a ray that misses the occupancy shows the
background."""

import dataclasses

import torch

from r2l_viewer.core.checkpoint import load_scene
from r2l_viewer.core.models import StudentConfig
from r2l_viewer.core.occupancy import teacher_occupancy
from trainers.events import LOG

from tests.trainers.conftest import context, run_to_end, scene_and_preset

PRODUCT_STUDENT = StudentConfig(points_per_ray=8, encoding="grid", grid_planes=(8, 16), grid_channels=4,
                                grid_combine="product", occupancy_resolution=12, width=32, blocks=1)


def test_a_distilled_student_holds_the_teachers_occupancy_and_learns(taught_scene, tmp_path):
    folder, preset = scene_and_preset(taught_scene, tmp_path)
    preset.distill = dataclasses.replace(preset.distill, student=PRODUCT_STUDENT, points_in_box=True, steps=120,
                                         lr=1e-2, grid_lr=5e-2)
    events = run_to_end("distill", preset, context(folder))
    scene = load_scene(folder / "scene.ckpt")
    student, teacher = scene.build_student(), scene.build_teacher()
    config = student.config
    assert config.uses_occupancy and config.background == tuple(scene.meta.background)
    expected = teacher_occupancy(teacher, config.box_min, config.box_max, config.occupancy_resolution)
    stored = student.occupancy_bits
    assert 0.0 < float(expected.float().mean()) < 0.6, "the demo's objects fill part of the box"
    assert torch.equal(stored, scene.student["weights"]["occupancy_bits"])
    assert any("teacher's occupancy" in e.message for e in events if e.kind == LOG)
    fresh = type(student)(config)
    fresh.set_occupancy(expected)
    assert torch.equal(fresh.occupancy_bits, stored)  # what was stored is the teacher's occupancy
    losses = [e.loss for e in events if e.loss is not None]
    assert len(losses) >= 2 and losses[-1] < 0.5 * losses[0], losses


def test_occupancy_stays_off_for_a_forward_facing_scene(taught_scene):
    from trainers.jobs.distill import occupancy_note, student_config_for

    meta = dataclasses.replace(load_scene(taught_scene[0] / "scene.ckpt").meta,
                               ndc={"height": 30, "width": 40, "focal": 35.0, "near": 1.0})
    config = student_config_for(PRODUCT_STUDENT, meta, normalize=True, box=((-1, -1, -1), (1, 1, 1)))
    assert config.occupancy_resolution == 0 and not config.uses_occupancy
    assert "forward-facing" in occupancy_note(PRODUCT_STUDENT, meta)
