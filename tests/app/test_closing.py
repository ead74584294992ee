"""Closing the window: a running job is stopped (after asking) and saved, every thread ends, nothing blocks."""

from __future__ import annotations

import time

from PyQt6.QtWidgets import QMessageBox

from r2l_viewer.core.checkpoint import load_scene

from .panels.test_training import start_long_distill


def test_closing_during_a_job_stops_it_saves_and_closes_without_blocking(qtbot, make_window, scene_copy, dialogs):
    window = make_window(scene_copy)
    thread = start_long_distill(qtbot, window, dialogs)
    started = time.monotonic()
    assert window.close() is False, "the window stays open until the job has saved"
    assert time.monotonic() - started < 1.0, "closing must not freeze the window while the job stops"
    assert "Stop it" in dialogs.questions[-1] and window.isVisible()
    assert "stopping the job" in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: window.is_closed, timeout=30_000)
    assert thread.isFinished() and thread.outcome == "stopped" and not window.isVisible()
    assert not window.live.worker.isRunning() and not window.compare_worker.isRunning()
    student = load_scene(scene_copy).student
    assert student["config"]["width"] == 16 and student["step"] > 0 and not student["complete"]


def test_answering_no_keeps_the_window_and_the_job(qtbot, make_window, scene_copy, dialogs):
    window = make_window(scene_copy)
    thread = start_long_distill(qtbot, window, dialogs)
    dialogs.reply = QMessageBox.StandardButton.No
    assert window.close() is False
    qtbot.wait(300)
    assert window.isVisible() and not window.closing and thread.isRunning() and not thread.ctx.stop.is_set()


def test_closing_with_no_job_ends_the_render_threads_and_asks_nothing(qtbot, make_window, demo_checkpoint, dialogs):
    window = make_window(demo_checkpoint)
    window.live.refresh()  # a render in flight
    window.close()
    qtbot.waitUntil(lambda: window.is_closed, timeout=10_000)
    assert not window.live.worker.isRunning() and not window.compare_worker.isRunning()
    assert dialogs.questions == []
