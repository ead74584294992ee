"""`--teacher.settle_db`: the teacher ends early once its validation PSNR stops rising, only after the grid's last
growth, and a resumed run judges by the validations made before the stop."""

import dataclasses

from r2l_viewer.core.checkpoint import load_scene
from r2l_viewer.core.render import RenderInterrupted
from trainers.events import DONE, LOG, STOPPED, VALIDATION
from trainers.jobs.pipeline import run_job
from trainers.jobs.teacher import TrainTeacher

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


def test_a_stop_during_the_validation_that_settles_resumes_into_the_settled_end(tmp_path, monkeypatch):
    preset = settling_preset(ANY_GAIN)
    preset.teacher = dataclasses.replace(preset.teacher, upsample_steps=(20,))  # settles at 80: the span 40..80
    ctx = context(tmp_path)
    real = TrainTeacher.validate

    def stopped_at_80(job, step):
        if step == 80 and not ctx.stop.is_set():
            ctx.stop.set()
            raise RenderInterrupted("stopped during the validation")
        return real(job, step)

    monkeypatch.setattr(TrainTeacher, "validate", stopped_at_80)
    events = list(run_job("teacher", preset, ctx))
    assert events[-1].kind == STOPPED and events[-1].step == 80
    events = list(run_job("teacher", preset, context(tmp_path, resume=True)))
    assert [e.step for e in events if e.kind == VALIDATION] == [80]  # the interrupted one, redone, and no more
    assert events[-1].kind == DONE and events[-1].step == 80


def judged(tmp_path, validations: list, settle_db: float, step: int):
    """What the tests' teacher job says at a validation at `step`, given the validations so far."""
    job = TrainTeacher(dataclasses.replace(tiny_preset().teacher, val_every=40, settle_db=settle_db,
                                           upsample_steps=(100,)), context(tmp_path))
    job.validations = validations
    return job.finished_early(step)


def test_settling_compares_the_best_so_far_with_the_best_a_span_ago(tmp_path):
    history = [(120, 20.0), (160, 20.5)]
    assert judged(tmp_path, history, 0.6, 160).startswith("settled: the best validation PSNR rose 0.50 dB")
    assert judged(tmp_path, history, 0.4, 160) is None  # rose more than settle_db: goes on
    dipped = [(120, 20.0), (160, 19.0), (200, 20.3)]  # a dip and back: 0.3 above the best a span ago, not 1.3
    assert judged(tmp_path, dipped, 0.5, 200) is not None and judged(tmp_path, dipped, 0.2, 200) is None
    assert judged(tmp_path, [(80, 20.0), (120, 20.0)], 0.1, 120) is None  # 80..120 straddles the growth at 100
    assert judged(tmp_path, [(120, 20.0), (160, float("nan"))], 0.1, 160) is None  # diverged: not settled
    assert judged(tmp_path, history, 0.0, 160) is None  # off
