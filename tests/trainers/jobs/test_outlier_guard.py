"""A real distillation meets an outlier gradient: the guard scales it down, says so, and halves the learning rate
for the rest of the run (and for a resumed run)."""

import dataclasses

import pytest

from r2l_viewer.core.config import ConfigError, to_dict, validate
from trainers.configs import DistillConfig, FinetuneConfig
from trainers.events import DONE, LOG, PROGRESS
from trainers.jobs.distill import Distill
from trainers.jobs.finetune import Finetune
from trainers.jobs.pipeline import run_job
from trainers.presets import get_preset
from trainers.storage.resume import resumed_config
from trainers.storage.workspace import RunContext, Workspace
from trainers.training.schedule import warmup_then_decay
from trainers.training.student_steps import StudentJob

from tests.trainers.conftest import context, scene_and_preset

OUTLIER_STEP = 130  # after the guard's 100 steps of history


def with_an_outlier_at(monkeypatch, at_step: int, factor: float = 1000.0) -> None:
    """Every distillation in this test gets one step whose gradients are `factor` times their own size."""
    original = StudentJob._forward_backward

    def forward_backward(self, model, part, generator, rays, last):
        result = original(self, model, part, generator, rays, last)
        if self.current_step == at_step and last:
            for param in self.student.parameters():
                param.grad.mul_(factor)
        return result

    monkeypatch.setattr(StudentJob, "_forward_backward", forward_backward)


def scheduled(cfg, step: int) -> float:
    return warmup_then_decay(step, cfg.lr, cfg.warmup_steps, cfg.warmup_lr, cfg.decay_steps)


def test_an_outlier_gradient_is_scaled_down_and_halves_the_learning_rate(taught_scene, tmp_path, monkeypatch):
    folder, preset = scene_and_preset(taught_scene, tmp_path)
    with_an_outlier_at(monkeypatch, OUTLIER_STEP)
    events = list(run_job("distill", preset, context(folder)))
    assert events[-1].kind == DONE
    notes = [e for e in events if e.kind == LOG and "its gradient was" in e.message]
    assert len(notes) == 1 and notes[0].step == OUTLIER_STEP + 1
    assert "over the limit of 4x: scaled down, the learning rate now 0.5x the schedule's" in notes[0].message
    assert "--distill.outlier_limit" in notes[0].message
    cfg, last = preset.distill, [e for e in events if e.kind == PROGRESS][-1]
    assert abs(last.lr - 0.5 * scheduled(cfg, last.step - 1)) < 1e-9


def test_the_tiny_and_standard_presets_guard_their_students():
    for name in ("tiny", "standard"):
        preset = get_preset(name)
        assert preset.distill.outlier_limit == 4.0 and preset.finetune.outlier_limit == 4.0


def test_with_the_guard_off_the_outlier_goes_through_unnoticed(taught_scene, tmp_path, monkeypatch):
    folder, preset = scene_and_preset(taught_scene, tmp_path)
    preset.distill = dataclasses.replace(preset.distill, outlier_limit=0.0)
    with_an_outlier_at(monkeypatch, OUTLIER_STEP)
    events = list(run_job("distill", preset, context(folder)))
    assert events[-1].kind == DONE
    assert not [e for e in events if e.kind == LOG and "its gradient was" in e.message]
    last = [e for e in events if e.kind == PROGRESS][-1]
    assert abs(last.lr - scheduled(preset.distill, last.step - 1)) < 1e-9


def test_a_resumed_run_keeps_the_halved_rate(taught_scene, tmp_path, monkeypatch):
    folder, preset = scene_and_preset(taught_scene, tmp_path)
    with_an_outlier_at(monkeypatch, OUTLIER_STEP)
    monkeypatch.setattr("trainers.training.loop.REPORT_SECONDS", -1.0)  # a progress event after every step
    ctx = context(folder)
    for event in run_job("distill", preset, ctx):
        if event.kind == PROGRESS and event.step > OUTLIER_STEP + 5:
            ctx.stop.set()  # Ctrl-C after the outlier
    state = Workspace(folder / "scene.ckpt").load_state("distill")
    assert state["gradient_guard"]["rate_factor"] == 0.5 and state["gradient_guard"]["outliers"] == 1
    events = list(run_job("distill", preset, context(folder, resume=True)))
    assert events[-1].kind == DONE
    last = [e for e in events if e.kind == PROGRESS][-1]
    assert abs(last.lr - 0.5 * scheduled(preset.distill, last.step - 1)) < 1e-9


def test_a_run_resumed_with_the_guard_off_gets_the_schedules_full_rate_back(taught_scene, tmp_path, monkeypatch):
    folder, preset = scene_and_preset(taught_scene, tmp_path)
    with_an_outlier_at(monkeypatch, OUTLIER_STEP)
    monkeypatch.setattr("trainers.training.loop.REPORT_SECONDS", -1.0)
    ctx = context(folder)
    for event in run_job("distill", preset, ctx):
        if event.kind == PROGRESS and event.step > OUTLIER_STEP + 5:
            ctx.stop.set()
    assert Workspace(folder / "scene.ckpt").load_state("distill")["gradient_guard"]["rate_factor"] == 0.5
    preset.distill = dataclasses.replace(preset.distill, outlier_limit=0.0)  # --distill.outlier_limit 0 on resume
    events = list(run_job("distill", preset, context(folder, resume=True)))
    assert events[-1].kind == DONE
    progress = [e for e in events if e.kind == PROGRESS]
    assert progress[0].step > OUTLIER_STEP  # resumed, not started over
    last = progress[-1]
    assert abs(last.lr - scheduled(preset.distill, last.step - 1)) < 1e-9


def test_the_guard_judges_no_step_during_a_longer_learning_rate_warm_up(tmp_path):
    preset = get_preset("standard")
    job = Distill(preset.distill, RunContext(Workspace(tmp_path / "s.ckpt"), device="cpu"))
    assert preset.distill.warmup_steps == 200 and job.guard.warmup_steps == 200
    job = Distill(dataclasses.replace(preset.distill, warmup_steps=10), RunContext(Workspace(tmp_path / "t.ckpt"),
                                                                                   device="cpu"))
    assert job.guard.warmup_steps == 100  # the guard's own history comes first


def test_limits_that_would_catch_ordinary_steps_are_refused_with_what_to_give():
    for limit in (0.5, 1.0, 1.9):
        with pytest.raises(ConfigError, match=r"outlier_limit = .* below its minimum 2.0 \(0 turns it off\)"):
            validate(DistillConfig(outlier_limit=limit), "--distill")
    for limit in (0.0, 2.0, 4.0):
        validate(FinetuneConfig(outlier_limit=limit), "--finetune")


def test_a_run_saved_before_the_guard_resumes_without_it_unless_asked():
    saved = to_dict(DistillConfig(steps=77))
    del saved["outlier_limit"]  # an interrupted run saved before the guard existed
    preset = DistillConfig(steps=77, outlier_limit=4.0)
    assert resumed_config("distill", preset, saved, frozenset(), Distill.free_on_resume).outlier_limit == 0.0
    asked = frozenset({"distill.outlier_limit"})
    assert resumed_config("distill", preset, saved, asked, Distill.free_on_resume).outlier_limit == 4.0
    assert "outlier_limit" in Finetune.free_on_resume
