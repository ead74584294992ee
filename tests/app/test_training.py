"""The train panel on real threads: distil with tiny settings, stop within 2 s, refuse a second job, show errors."""

from __future__ import annotations

import dataclasses
import time

import pytest
from PyQt6.QtCore import Qt

from r2l_viewer.core.models import StudentConfig

from .helpers import drag, wait_at_rest

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


@pytest.fixture(autouse=True)
def fast_snapshots(monkeypatch):
    monkeypatch.setattr("r2l_viewer.app.job_thread.SNAPSHOT_SECONDS", 0.0)


def test_distill_reports_progress_and_updates_the_student(qtbot, make_window, scene_copy):
    window = make_window(scene_copy)
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


def test_stop_ends_a_job_within_two_seconds_and_a_second_job_is_refused(qtbot, make_window, scene_copy):
    window = make_window(scene_copy)
    train = window.train
    set_tiny_distill(window, steps=1_000_000)
    qtbot.mouseClick(train.buttons["distill"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: train.progress.value() > 0, timeout=120_000)
    thread = train.thread
    qtbot.mouseClick(train.buttons["finetune"], Qt.MouseButton.LeftButton)
    assert train.thread is thread and "refused" in train.status.text()
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


def test_a_job_that_cannot_start_says_why(qtbot, make_window, scene_copy, monkeypatch):
    window = make_window(scene_copy)

    def no_room():
        raise PermissionError("cannot write the scene's folder")

    monkeypatch.setattr(window.session, "job_path", no_room)
    qtbot.mouseClick(window.train.buttons["distill"], Qt.MouseButton.LeftButton)
    assert not window.train.busy and "cannot start distill" in window.train.status.text()
    assert "cannot write" in window.train.status.text()

