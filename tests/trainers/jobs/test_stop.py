"""The stop flag is honoured within a second everywhere, setup and validation renders included, and what a stop
saves is meaningful."""

import dataclasses
import time

import pytest
import torch

from r2l_viewer.core.checkpoint import load_scene
from r2l_viewer.core.models import GridTeacher, Student, StudentConfig
from trainers.events import DONE, STOPPED, VALIDATION
from trainers.jobs.pipeline import run_job
from trainers.training.responsive import CPU_FLOPS_PER_CALL, TRAINING_COST, linear_flops_per_ray, rays_per_call

from tests.trainers.conftest import context, scene_and_preset

SECONDS_PER_RAY = 0.002  # renders of the slowed model: a 33x33 view takes 2.2 s, a call of 64 rays 0.13 s


class SlowRenders:
    """Slows the renders (calls without gradients) of a model class; `run` sets the stop flag at the first one."""

    def __init__(self, monkeypatch, cls):
        self.ctx, self.stopped_at = None, None
        real = cls.forward

        def slow(model, origins, *args, **kwargs):
            if not torch.is_grad_enabled():
                if self.ctx is not None and self.stopped_at is None:
                    self.ctx.stop.set()
                    self.stopped_at = time.monotonic()
                time.sleep(SECONDS_PER_RAY * len(origins))
            return real(model, origins, *args, **kwargs)

        monkeypatch.setattr(cls, "forward", slow)
        monkeypatch.setattr("trainers.training.responsive.CPU_FLOPS_PER_CALL", 1.0)  # smallest calls: 64 rays

    def run(self, job, preset, ctx) -> tuple[list, float]:
        """Run a job that is stopped at its first render; returns the events and the seconds from the stop to
        the STOPPED event."""
        self.ctx, events = ctx, []
        for event in run_job(job, preset, ctx):
            events.append(event)
            if event.kind == STOPPED:
                return events, time.monotonic() - self.stopped_at
        pytest.fail(f"{job} did not stop: {[e.kind for e in events]}")


def test_stop_while_an_online_distill_fills_its_buffer(taught_scene, tmp_path, monkeypatch):
    folder, preset = scene_and_preset(taught_scene, tmp_path)
    preset.distill = dataclasses.replace(preset.distill, online=True, online_buffer=4)
    events, latency = SlowRenders(monkeypatch, GridTeacher).run("distill", preset, context(folder))
    assert latency < 1.0 and events[-1].step == 0 and "nothing saved" in events[-1].message
    assert load_scene(folder / "scene.ckpt").student is None  # no untrained student was written
    assert not (folder / "scene.resume").exists()


def test_stop_while_rendering_a_pseudo_view(taught_scene, tmp_path, monkeypatch):
    folder, preset = scene_and_preset(taught_scene, tmp_path)
    events, latency = SlowRenders(monkeypatch, GridTeacher).run("pseudo", preset, context(folder))
    assert latency < 1.0 and events[-1].step == 0


def test_stop_during_teacher_validation_then_resume_redoes_it(taught_scene, tmp_path, monkeypatch):
    folder, preset = scene_and_preset(taught_scene, tmp_path)
    preset.teacher = dataclasses.replace(preset.teacher, steps=4, val_every=2, val_views=1, upsample_steps=(100,))
    events, latency = SlowRenders(monkeypatch, GridTeacher).run("teacher", preset, context(folder, force=True))
    assert latency < 1.0 and events[-1].step == 2 and "saved" in events[-1].message
    assert load_scene(folder / "scene.ckpt").teacher["step"] == 2
    monkeypatch.undo()
    events = list(run_job("teacher", preset, context(folder, resume=True)))
    assert [e.step for e in events if e.kind == VALIDATION] == [2, 4]  # the interrupted validation, then the last
    assert events[-1].kind == DONE and events[-1].step == 4


def test_stop_during_finetunes_first_validation(student_scene, tmp_path, monkeypatch):
    folder, preset = scene_and_preset(student_scene, tmp_path)
    before = load_scene(folder / "scene.ckpt").student
    events, latency = SlowRenders(monkeypatch, Student).run("finetune", preset, context(folder))
    assert latency < 1.0 and events[-1].step == 0
    after = load_scene(folder / "scene.ckpt").student
    assert after["stage"] == before["stage"] and after["step"] == before["step"] and after["complete"]


def test_cpu_micro_batches_of_the_paper_student_stay_well_under_a_second():
    student = Student(StudentConfig())  # 88 x 256: 11.8 MFLOPs per ray
    assert linear_flops_per_ray(student) == pytest.approx(11.79e6, rel=0.01)
    rays = rays_per_call(student, torch.device("cpu"), 8192, training=True)
    assert 256 <= rays < 1000 and rays * linear_flops_per_ray(student) * TRAINING_COST <= CPU_FLOPS_PER_CALL
    assert rays_per_call(student, torch.device("cuda"), 8192, training=True) == 8192  # no split on a GPU
    small = Student(StudentConfig(points_per_ray=16, frequencies=6, width=128, blocks=4))  # the tiny preset's
    assert rays_per_call(small, torch.device("cpu"), 8192, training=True) == 8192
