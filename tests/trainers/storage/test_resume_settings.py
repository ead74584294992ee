"""--resume continues an interrupted run with the settings it was saved with; a given option that conflicts is
named with both values; a run that starts over while an interrupted one is saved says how to continue that one."""

import dataclasses

import pytest

from r2l_viewer.core.checkpoint import atomic_save, load_payload, load_scene
from r2l_viewer.core.config import to_dict
from trainers.configs import TeacherConfig
from trainers.storage.resume import resumed_config
from trainers.errors import JobError
from trainers.cli import train as cli
from trainers.cli.train import main
from trainers.events import DONE, LOG, PROGRESS, STOPPED
from trainers.jobs.pipeline import run_job
from trainers.storage.pseudo_store import PseudoStore

from tests.trainers.conftest import DEMO_DOWNSCALE, context, scene_and_preset, tiny_preset


def _interrupted(job: str, preset, ctx, after: int = 1) -> int:
    """Run a job until `after` progress events, then stop it; the step it saved."""
    seen = 0
    for event in run_job(job, preset, ctx):
        seen += event.kind == PROGRESS
        if seen >= after:
            ctx.stop.set()
    assert event.kind == STOPPED and event.step > 0, event
    return event.step


@pytest.fixture
def interrupted_distill(taught_scene, tmp_path, monkeypatch):
    """A scene whose distillation, started with 40 steps and seed 3, was stopped; the CLI's presets are tiny."""
    folder, preset = scene_and_preset(taught_scene, tmp_path)
    preset.distill = dataclasses.replace(preset.distill, steps=40, batch_rays=256, val_every=0)
    monkeypatch.setattr("trainers.training.loop.REPORT_SECONDS", -1.0)  # a progress event every step
    step = _interrupted("distill", preset, context(folder, seed=3), after=5)
    monkeypatch.setattr(cli, "get_preset", lambda name: tiny_preset())  # whose distill.steps is 160
    return folder, step


def _cli(folder, *extra) -> list[str]:
    return ["distill", "--out", str(folder / "scene.ckpt"), "--device", "cpu", "--quiet", *extra]


def test_resume_without_options_continues_with_the_saved_settings(interrupted_distill, capsys):
    folder, step = interrupted_distill
    assert main(_cli(folder, "--resume")) == 0, capsys.readouterr().err
    student = load_scene(folder / "scene.ckpt").student
    assert student["complete"] and student["step"] == 40  # the saved run's 40 steps, not the preset's 160
    assert student["config"]["width"] == tiny_preset().distill.student.width


def test_a_conflicting_option_is_named_with_both_values(interrupted_distill, capsys):
    folder, step = interrupted_distill
    assert main(_cli(folder, "--resume", "--distill.steps", "8000", "--seed", "3")) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--distill.steps 40 saved, 8000 given" in err[0], err
    assert "leave those options out to continue with the saved values" in err[0] and "without --resume" in err[0]
    assert main(_cli(folder, "--resume", "--seed", "5")) == 2
    assert "--seed 3 saved, 5 given" in capsys.readouterr().err
    assert load_payload(folder / "scene.resume" / "distill.pt")["step"] == step  # refused: the state is kept


def test_starting_over_notes_the_interrupted_run_and_a_quick_stop_keeps_it(interrupted_distill):
    folder, step = interrupted_distill
    preset = tiny_preset()
    preset.distill = dataclasses.replace(preset.distill, batch_rays=256, val_every=0)
    ctx = context(folder, force=True)
    events = []
    for event in run_job("distill", preset, ctx):
        events.append(event)
        if event.kind == PROGRESS:
            ctx.stop.set()
    notes = [e.message for e in events if e.kind == LOG and "interrupted distill run" in e.message]
    assert len(notes) == 1 and f"saved at step {step} of 40" in notes[0] and "--resume" in notes[0]
    assert events[-1].kind == STOPPED and events[-1].step < step  # not as far as the interrupted run: it is kept
    assert "is kept: continue it with --resume" in events[-1].message
    assert load_payload(folder / "scene.resume" / "distill.pt")["step"] == step


def test_pseudo_resume_keeps_the_saved_count_and_a_new_set_notes_the_unfinished_one(taught_scene, tmp_path):
    folder, preset = scene_and_preset(taught_scene, tmp_path)
    preset.pseudo = dataclasses.replace(preset.pseudo, images=7, shard_images=2)
    _interrupted("pseudo", preset, context(folder, seed=2), after=3)
    store = PseudoStore(folder / "scene.pseudo.new")
    assert not store.manifest()["complete"] and store.manifest()["planned"] == 7
    preset.pseudo = dataclasses.replace(preset.pseudo, images=20)  # a preset default the user did not give
    events = list(run_job("pseudo", preset, context(folder, resume=True, given=frozenset())))
    assert events[-1].kind == DONE and PseudoStore(folder / "scene.pseudo").manifest()["images"] == 7
    assert PseudoStore(folder / "scene.pseudo").manifest()["settings"]["seed"] == 2
    _interrupted("pseudo", preset, context(folder), after=3)
    events = list(run_job("pseudo", preset, context(folder)))
    notes = [e.message for e in events if e.kind == LOG and "unfinished pseudo set" in e.message]
    assert len(notes) == 1 and "(3 of 20 views)" in notes[0] and "--resume" in notes[0]


def test_a_run_saved_before_a_setting_existed_continues_with_its_default(interrupted_distill):
    """States saved before `ray_streams` existed (one stream, the old behaviour) resume as they were."""
    folder, step = interrupted_distill
    state_path = folder / "scene.resume" / "distill.pt"
    state = load_payload(state_path)
    del state["config"]["ray_streams"]
    atomic_save(state_path, state)
    events = list(run_job("distill", _saved_preset(state), context(folder, resume=True, given=frozenset())))
    assert events[-1].kind == DONE and events[-1].step == 40
    assert any(e.kind == LOG and f"resuming at step {step}" in e.message for e in events)


def _saved_preset(state: dict):
    preset = tiny_preset()
    preset.distill = dataclasses.replace(preset.distill, steps=state["config"]["steps"])
    return preset


@pytest.mark.parametrize("given", [None, frozenset()])
def test_a_teacher_run_saved_with_the_removed_tv_weight_continues_without_it(given):
    """`teacher.tv_weight` was read by nothing and is gone: states saved with it resume, the key dropped."""
    saved = to_dict(TeacherConfig(steps=77)) | {"tv_weight": 1e-5}
    adopted = resumed_config("teacher", TeacherConfig(steps=77), saved, given)
    assert adopted == TeacherConfig(steps=77)
    with pytest.raises(JobError, match="--teacher.steps 77 saved, 5 given"):  # other settings are still checked
        resumed_config("teacher", TeacherConfig(steps=5), saved, given=None)
