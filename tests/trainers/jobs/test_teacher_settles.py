"""`--teacher.settle_db`: the teacher ends early once its validation PSNR stops rising, only after the grid's last
growth, and a resumed run judges by the validations made before the stop."""

import dataclasses

from r2l_viewer.core.checkpoint import load_scene
from trainers.events import DONE, LOG, STOPPED, VALIDATION
from trainers.jobs.pipeline import run_job

from tests.trainers.conftest import context, tiny_preset

ANY_GAIN = 100.0  # dB: every rise counts as too small, so the teacher settles at the first validation it may


def settling_preset(settle_db: float):
    """The tests' tiny teacher, validated every 40 of its 240 steps; its grid grows at step 100 for the last time."""
    preset = tiny_preset()
    preset.teacher = dataclasses.replace(preset.teacher, val_every=40, settle_db=settle_db)
    return preset


def test_the_teacher_settles_at_the_first_span_after_its_last_growth(tmp_path):
    events = list(run_job("teacher", settling_preset(ANY_GAIN), context(tmp_path)))
    # validations at 40, 80, 120, 160: 160 is the first whose span (120..160) starts after the growth at 100
    assert [e.step for e in events if e.kind == VALIDATION] == [40, 80, 120, 160]
    settled = [e for e in events if e.kind == LOG and e.message.startswith("settled")]
    assert len(settled) == 1 and "step 160 of 240" in settled[0].message
    assert events[-1].kind == DONE and events[-1].step == 160 and "settled at step 160" in events[-1].message
    teacher = load_scene(tmp_path / "scene.ckpt").teacher
    assert teacher["complete"] and teacher["step"] == 160
    assert not (tmp_path / "scene.resume").exists()


def test_without_settle_db_every_step_trains(tmp_path):
    events = list(run_job("teacher", settling_preset(0.0), context(tmp_path)))
    assert events[-1].kind == DONE and events[-1].step == 240
    assert not any(e.kind == LOG and e.message.startswith("settled") for e in events)


def test_a_resumed_teacher_settles_by_the_validations_made_before_its_stop(tmp_path):
    preset = settling_preset(ANY_GAIN)
    ctx = context(tmp_path)
    for event in run_job("teacher", preset, ctx):
        if event.kind == VALIDATION and event.step == 120:
            ctx.stop.set()
        if event.kind == STOPPED:
            break
    assert event.kind == STOPPED and event.step == 120
    events = list(run_job("teacher", preset, context(tmp_path, resume=True)))
    # the span 120..160 compares with the validations at 40..120 saved with the stop; without them it could not
    # settle before 200
    assert events[-1].kind == DONE and events[-1].step == 160
