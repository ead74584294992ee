"""Finished results are protected: a fresh distil refuses to replace a finished student, a stop before the first
step saves nothing into the scene, and --resume with nothing to resume never starts afresh."""

import dataclasses

import pytest

from r2l_viewer.core.checkpoint import load_scene
from trainers.events import DONE, STOPPED
from trainers.jobs.pipeline import run_job
from trainers.errors import JobError

from tests.trainers.conftest import context, scene_and_preset


def test_distilling_over_a_finished_student_is_refused_without_force(student_scene, tmp_path):
    folder, preset = scene_and_preset(student_scene, tmp_path)
    with pytest.raises(JobError, match=r"already has a student \(finetuned, step 30, validation PSNR 21.50 dB\); "
                                       r"use --resume to continue an interrupted run, --force to replace it"):
        list(run_job("distill", preset, context(folder)))
    assert load_scene(folder / "scene.ckpt").student["stage"] == "finetuned"


def test_a_stop_before_the_first_step_saves_nothing_into_the_scene(student_scene, tmp_path):
    folder, preset = scene_and_preset(student_scene, tmp_path)
    before = load_scene(folder / "scene.ckpt").student
    ctx = context(folder, force=True)
    ctx.stop.set()  # Ctrl-C as the job starts
    events = list(run_job("distill", preset, ctx))
    assert events[-1].kind == STOPPED and events[-1].step == 0 and "nothing saved" in events[-1].message
    after = load_scene(folder / "scene.ckpt").student
    assert after["stage"] == "finetuned" and after["complete"] and after["step"] == before["step"]
    assert all((after["weights"][k] == before["weights"][k]).all() for k in before["weights"])


def test_force_replaces_the_finished_student(student_scene, tmp_path):
    folder, preset = scene_and_preset(student_scene, tmp_path)
    preset.distill = dataclasses.replace(preset.distill, steps=3, val_views=1)
    events = list(run_job("distill", preset, context(folder, force=True)))
    assert events[-1].kind == DONE
    student = load_scene(folder / "scene.ckpt").student
    assert student["stage"] == "distilled" and student["step"] == 3 and student["complete"]


@pytest.mark.parametrize("job", ["teacher", "distill", "finetune"])
def test_resume_with_nothing_to_resume_leaves_a_finished_result_alone(student_scene, tmp_path, job):
    folder, preset = scene_and_preset(student_scene, tmp_path)
    before = load_scene(folder / "scene.ckpt")
    events = list(run_job(job, preset, context(folder, resume=True)))
    assert len(events) == 1 and events[0].kind == DONE and "already finished" in events[0].message
    after = load_scene(folder / "scene.ckpt")
    assert after.teacher["id"] == before.teacher["id"] and after.history == before.history
    assert after.student["stage"] == "finetuned" and after.student["step"] == before.student["step"]

