"""The whole pipeline on a tiny demo scene: teacher, pseudo data, distil, finetune, and exact resume."""

import dataclasses
import shutil

import pytest
import torch

from r2l_viewer.core.checkpoint import load_scene
from r2l_viewer.core.models import StudentConfig
from trainers.events import DONE, LOG, PROGRESS, STOPPED, VALIDATION
from trainers.jobs.pipeline import run_job

from tests.trainers.conftest import context, run_to_end, scene_and_preset, tiny_preset


def test_teacher_learns_the_scene(taught_scene):
    folder, _, events = taught_scene
    done = [e for e in events if e.stage == "teacher" and e.kind == DONE][0]
    first = next(e for e in events if e.kind == PROGRESS and e.stage == "teacher")
    assert done.metrics["val_psnr"] > 19.0 and done.metrics["val_psnr"] > first.psnr + 6.0
    scene = load_scene(folder / "scene.ckpt")
    assert scene.teacher["kind"] == "grid" and scene.teacher["complete"]
    progress = [e for e in events if e.kind == PROGRESS and e.stage == "teacher"]
    assert progress and all(e.rays_per_s and e.eta_s is not None and e.loss is not None for e in progress[1:])


def test_pseudo_data_is_compact(taught_scene):
    folder, preset, events = taught_scene
    done = [e for e in events if e.stage == "pseudo" and e.kind == DONE][0]
    assert done.metrics["images"] == preset.pseudo.images
    assert 5.0 <= done.metrics["bytes_per_ray"] < 5.2  # uint8 RGB + float16 depth, pose and focal per view


def _copy(taught_scene, tmp_path):
    return scene_and_preset(taught_scene, tmp_path)  # the preset is a private copy: tests change it


def test_distil_then_finetune_raise_the_student(taught_scene, tmp_path):
    folder, preset = _copy(taught_scene, tmp_path)
    events = run_to_end("distill", preset, context(folder))
    validations = [e.metrics for e in events if e.kind == VALIDATION]
    first_progress = next(e for e in events if e.kind == PROGRESS)
    assert validations[-1]["teacher_psnr"] > first_progress.psnr + 6.0  # well above where it started
    assert validations[-1]["teacher_psnr"] > 15.0
    scene = load_scene(folder / "scene.ckpt")
    assert scene.student["stage"] == "distilled" and scene.student["complete"]
    assert scene.student["teacher_id"] == scene.teacher["id"]

    still = shutil.copytree(folder, tmp_path / "still")  # the distilled student, to finetune at (almost) no rate
    distilled = _weights(folder)

    preset.finetune = dataclasses.replace(preset.finetune, lr=2e-3)  # a sane rate for a small student
    events = run_to_end("finetune", preset, context(folder))
    before = next(e for e in events if e.kind == LOG and "before" in e.message).metrics["val_psnr"]
    done = events[-1]
    # real images teach the student what the teacher got wrong (16.19 -> 17.43 dB when written)
    assert done.metrics["val_psnr"] > before + 0.3, (before, done.metrics)
    scene = load_scene(folder / "scene.ckpt")
    assert scene.student["stage"] == "finetuned" and scene.student["before_psnr"] == pytest.approx(before, abs=1e-4)
    assert scene.student["best_step"] > 0
    stages = [h["stage"] for h in scene.history]
    assert stages == ["teacher", "distill", "finetune"]

    preset.finetune = dataclasses.replace(preset.finetune, lr=1e-7, grid_lr=1e-7)  # FinetuneConfig's least rate
    events = run_to_end("finetune", preset, context(still))
    assert events[-1].metrics["val_psnr"] == pytest.approx(before, abs=1e-3)
    for name, value in _weights(still).items():
        assert torch.allclose(value, distilled[name], atol=1e-5), name


GRID_STUDENT = StudentConfig(points_per_ray=8, encoding="grid", grid_planes=(8, 16), grid_channels=2, width=32,
                             blocks=1)
DEPTH_STUDENT = StudentConfig(points_per_ray=8, frequencies=4, width=48, blocks=2, depth=True)  # its pool holds depths


def test_a_grid_student_learns_the_scene_and_is_saved_with_its_grids(taught_scene, tmp_path):
    folder, preset = _copy(taught_scene, tmp_path)
    preset.distill = dataclasses.replace(preset.distill, student=GRID_STUDENT)
    events = run_to_end("distill", preset, context(folder))
    losses = [e.loss for e in events if e.kind == PROGRESS]
    assert len(losses) >= 2 and losses[-1] < 0.3 * losses[0]  # the loss falls
    assert [e.metrics for e in events if e.kind == VALIDATION][-1]["teacher_psnr"] > 15.0
    record = load_scene(folder / "scene.ckpt").student
    assert record["config"]["encoding"] == "grid" and record["config"]["grid_planes"] == [8, 16]
    assert record["weights"]["grids.planes.1"].shape == (3, 2, 16, 16)

    events = run_to_end("finetune", preset, context(folder))
    assert events[-1].kind == DONE and load_scene(folder / "scene.ckpt").student["stage"] == "finetuned"


def _weights(folder):
    return load_scene(folder / "scene.ckpt").student["weights"]


@pytest.mark.parametrize("student", [None, GRID_STUDENT, DEPTH_STUDENT], ids=["frequency", "grid", "depth"])
def test_resume_after_a_stop_ends_where_an_uninterrupted_run_ends(taught_scene, tmp_path, student):
    folder_a, preset = _copy(taught_scene, tmp_path / "a")
    folder_b, _ = _copy(taught_scene, tmp_path / "b")
    if student is not None:
        preset.distill = dataclasses.replace(preset.distill, student=student)
    run_to_end("distill", preset, context(folder_a))

    ctx = context(folder_b)
    stopped_at = None
    for event in run_job("distill", preset, ctx):
        if event.kind == PROGRESS and event.step >= 30:
            ctx.stop.set()
        if event.kind == STOPPED:
            stopped_at = event.step
    assert stopped_at is not None and 30 <= stopped_at < preset.distill.steps
    assert load_scene(folder_b / "scene.ckpt").student["step"] == stopped_at

    events = run_to_end("distill", preset, context(folder_b, resume=True))
    assert any(e.kind == LOG and f"resuming at step {stopped_at}" in e.message for e in events)
    assert events[-1].step == preset.distill.steps
    a, b = _weights(folder_a), _weights(folder_b)
    for name in a:
        assert torch.allclose(a[name], b[name], atol=1e-5), name
    assert not (folder_b / "scene.resume" / "distill.pt").exists()  # the state goes once the job is done
    assert not (folder_b / "scene.resume").exists()  # and so does the resume folder, once empty


def test_online_distillation_needs_no_pseudo_data(taught_scene, tmp_path):
    folder, preset = _copy(taught_scene, tmp_path)
    shutil.rmtree(folder / "scene.pseudo")
    preset.distill.online, preset.distill.online_buffer, preset.distill.steps = True, 4, 40
    events = run_to_end("distill", preset, context(folder))
    assert events[-1].kind == DONE and events[-1].metrics["teacher_psnr"] > 10.0
    assert not (folder / "scene.pseudo").exists()
    assert load_scene(folder / "scene.ckpt").student["online"] is True
