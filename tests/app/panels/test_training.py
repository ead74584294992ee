"""The train panel on real threads: distil with tiny settings, stop within 2 s, refuse a second job, show errors."""

from __future__ import annotations

import dataclasses
import time

import pytest
from PyQt6.QtCore import Qt

from r2l_viewer.core.models import StudentConfig

from ..conftest import yes
from ..helpers import drag, wait_at_rest

TINY_STUDENT = StudentConfig(points_per_ray=4, frequencies=2, width=16, blocks=1)
DATA = {"downscale": 12}  # the demo scene's images at 33x33: seconds to load


def tiny_distill(config, steps: int):
    return dataclasses.replace(
        config, student=TINY_STUDENT, steps=steps, batch_rays=256, hard_rays=32, online=True, online_buffer=2,
        online_every=10, warmup_steps=2, val_every=0, val_views=1, save_every=100_000,
    )


def set_tiny_distill(window, steps: int) -> None:
    form = window.train.forms["distill"]
    form.set_config(tiny_distill(form.config(), steps))
    window.train.run_options = dict(DATA)


def start_long_distill(qtbot, window, dialogs, ready=lambda train: train.progress.value() > 0):
    """A tiny distill far longer than any test, started from the Train panel (replacing the scene's student) and
    running until `ready(window.train)`; its job thread."""
    dialogs.reply = yes()
    set_tiny_distill(window, steps=1_000_000)
    qtbot.mouseClick(window.train.buttons["distill"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: ready(window.train), timeout=120_000)
    return window.train.thread


@pytest.fixture(autouse=True)
def fast_snapshots(monkeypatch):
    monkeypatch.setattr("r2l_viewer.app.workers.job_thread.SNAPSHOT_SECONDS", 0.0)


def test_distill_reports_progress_and_updates_the_student(qtbot, make_window, scene_copy, dialogs):
    window = make_window(scene_copy)
    dialogs.reply = yes()  # the demo has a student: replace it
    train, session = window.train, window.session
    set_tiny_distill(window, steps=20)
    labels, progress = [], []
    session.student_changed.connect(lambda: labels.append(session.student_label))
    with qtbot.waitSignal(train.job_ended, timeout=120_000) as ended, qtbot.waitSignal(session.scene_changed, timeout=120_000):
        qtbot.mouseClick(train.buttons["distill"], Qt.MouseButton.LeftButton)
        assert train.busy
        train.thread.event.connect(lambda e: progress.append(e.step) if e.kind == "progress" else None)
    assert ended.args == ["done"], train.status.text()
    assert progress and progress[-1] == 20 and train.progress.value() == train.progress.maximum()
    assert any("learning" in label for label in labels), labels  # the live view showed the student while it learnt
    record = session.checkpoint.student
    assert record["config"]["width"] == 16 and record["step"] == 20 and record["stage"] == "distilled"
    assert session.student.config.width == 16
    assert len(train.plots.steps) > 0
    wait_at_rest(qtbot, window)
    assert window.live.last_frame.label.startswith("student")


def test_stop_ends_a_job_within_two_seconds_and_a_second_job_is_refused(qtbot, make_window, scene_copy, dialogs):
    window = make_window(scene_copy)
    train = window.train
    thread, status = start_long_distill(qtbot, window, dialogs), train.status.text()
    qtbot.mouseClick(train.buttons["finetune"], Qt.MouseButton.LeftButton)
    # refused in passing (status bar and log); the running job's status stays as it was, not red
    assert train.thread is thread and train.status.text() == status and "running distill" in status
    assert "refused finetune: distill is still running" in window.statusBar().currentMessage()
    assert "refused finetune" in train.log.toPlainText() and not train.status.styleSheet()
    started = time.monotonic()
    with qtbot.waitSignal(train.job_ended, timeout=2_000) as ended:
        qtbot.mouseClick(train.stop_button, Qt.MouseButton.LeftButton)
    assert ended.args == ["stopped"] and time.monotonic() - started < 2.0
    qtbot.waitUntil(lambda: not train.busy, timeout=30_000)


def test_a_failing_job_shows_its_error_and_the_app_keeps_running(qtbot, make_window, scene_without_student):
    window = make_window(scene_without_student)
    train = window.train
    with qtbot.waitSignal(train.job_ended, timeout=30_000) as ended:
        qtbot.mouseClick(train.buttons["finetune"], Qt.MouseButton.LeftButton)
    assert ended.args == ["failed"]
    assert "has no student" in train.status.text() and "has no student" in train.log.toPlainText()
    qtbot.waitUntil(lambda: not train.busy, timeout=10_000)
    wait_at_rest(qtbot, window, timeout=60_000)
    azimuth = window.live.camera.azimuth
    drag(window.canvas, (40, 80), (90, 80))
    assert window.live.camera.azimuth != azimuth
    wait_at_rest(qtbot, window, timeout=60_000)


def test_a_job_that_cannot_start_says_why(qtbot, make_window, scene_copy, monkeypatch, dialogs):
    window = make_window(scene_copy)
    dialogs.reply = yes()

    def no_room():
        raise PermissionError("cannot write the scene's folder")

    monkeypatch.setattr(window.session, "job_path", no_room)
    qtbot.mouseClick(window.train.buttons["distill"], Qt.MouseButton.LeftButton)
    assert not window.train.busy and "cannot start distill" in window.train.status.text()
    assert "cannot write" in window.train.status.text()



def no():
    from PyQt6.QtWidgets import QMessageBox

    return QMessageBox.StandardButton.No


def test_replacing_a_student_or_teacher_asks_first_and_then_forces(qtbot, make_window, scene_copy, dialogs):
    window = make_window(scene_copy)
    train = window.train
    dialogs.reply = no()
    for name, asked in (("distill", "already has a student (finetuned)"), ("teacher", "already has a teacher")):
        qtbot.mouseClick(train.buttons[name], Qt.MouseButton.LeftButton)
        assert not train.busy and asked in dialogs.questions[-1]
    dialogs.reply = yes()
    set_tiny_distill(window, steps=5)
    with qtbot.waitSignal(train.job_ended, timeout=120_000) as ended:
        qtbot.mouseClick(train.buttons["distill"], Qt.MouseButton.LeftButton)
        assert train.busy and train.thread.ctx.force  # the trainers refuse to replace a student without it
    assert ended.args == ["done"] and len(dialogs.questions) == 3


def test_distill_without_a_student_asks_nothing_and_does_not_force(qtbot, make_window, scene_without_student, dialogs):
    window = make_window(scene_without_student)
    train = window.train
    set_tiny_distill(window, steps=1_000_000)
    qtbot.mouseClick(train.buttons["distill"], Qt.MouseButton.LeftButton)
    assert train.busy and not train.thread.ctx.force and dialogs.questions == []
    train.stop()
    qtbot.waitUntil(lambda: not train.busy, timeout=60_000)


def test_a_job_setting_up_shows_a_busy_bar_and_what_it_prepares(qtbot, make_window, scene_copy, dialogs, monkeypatch):
    window = make_window(scene_copy)
    train, seen = window.train, []
    dialogs.reply = yes()
    set_tiny_distill(window, steps=20)
    handle = train._on_event

    def handle_and_record(event):  # what the panel shows right after each event
        handle(event)
        seen.append((event.kind, event.message, train.progress.maximum(), train.status.text()))

    monkeypatch.setattr(train, "_on_event", handle_and_record)
    with qtbot.waitSignal(train.job_ended, timeout=120_000):
        qtbot.mouseClick(train.buttons["distill"], Qt.MouseButton.LeftButton)
        assert (train.progress.minimum(), train.progress.maximum()) == (0, 0), "a busy bar while it sets up"
        assert train.status.text().startswith("preparing distill:")
        assert not train.settings.tabs.isVisibleTo(train), "a running job folds the settings away"
    logs = [entry for entry in seen if entry[0] == "log"]
    first_progress = next(entry for entry in seen if entry[0] == "progress")
    assert logs and seen.index(logs[0]) < seen.index(first_progress)
    assert logs[0][2] == 0 and logs[0][3] == f"preparing distill: {logs[0][1]}"
    assert first_progress[2] == 20 and first_progress[3].startswith("running distill")
    assert "no job running" not in train.progress.format()
    train.settings.toggle.click()
    assert train.settings.tabs.isVisibleTo(train)


def fail_after_two_progress_events(make_job, remove_checkpoint: bool):
    """make_job whose jobs train for real, then raise (as a full disk or a lost GPU would) mid-run."""

    def make(name, preset, ctx):
        job = make_job(name, preset, ctx)
        run = job.run

        def run_then_fail():
            progress = 0
            for event in run():
                yield event
                progress += event.kind == "progress"
                if progress == 2:
                    if remove_checkpoint:
                        ctx.workspace.checkpoint.unlink()
                    raise RuntimeError("the disk is full")

        job.run = run_then_fail
        return job

    return make


@pytest.mark.parametrize("remove_checkpoint", [False, True], ids=["reload-checkpoint", "restore-pre-job-models"])
def test_after_a_failed_job_the_view_shows_the_saved_models_not_the_half_trained_one(
        qtbot, make_window, scene_copy, dialogs, monkeypatch, remove_checkpoint):
    import r2l_viewer.app.workers.job_thread as job_thread

    window = make_window(scene_copy)
    train, session = window.train, window.session
    wait_at_rest(qtbot, window)
    saved_label, saved_width = session.student_label, session.student.config.width
    dialogs.reply = yes()
    set_tiny_distill(window, steps=1_000_000)
    monkeypatch.setattr(job_thread, "make_job", fail_after_two_progress_events(job_thread.make_job, remove_checkpoint))
    labels, reloads = [], []
    session.student_changed.connect(lambda: labels.append(session.student_label))
    session.scene_changed.connect(lambda: reloads.append(session.path))
    with qtbot.waitSignal(train.job_ended, timeout=120_000) as ended:
        qtbot.mouseClick(train.buttons["distill"], Qt.MouseButton.LeftButton)
    assert ended.args == ["failed"] and "the disk is full" in train.status.text()
    assert any("learning" in label for label in labels), labels  # it did show the student while it learnt
    qtbot.waitUntil(lambda: not train.busy, timeout=30_000)
    assert reloads == ([] if remove_checkpoint else [scene_copy]), "reloaded from the checkpoint where one is left"
    assert session.student_label == saved_label and session.student.config.width == saved_width != 16
    wait_at_rest(qtbot, window, timeout=60_000)
    frame = window.live.last_frame
    assert frame.label == saved_label and window.live.is_full_size(frame)
