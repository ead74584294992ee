"""The compare panel's figures: marked stale while the camera moves, latency medians kept across training
snapshots (cleared when the network changes), and said plainly ("median of N frames"); a slow teacher shows a
coarse render first."""

from __future__ import annotations

import copy
import dataclasses
import re
import time

from r2l_viewer.app.panels.compare_panel import STALE
from r2l_viewer.core.models.student import Student

from ..helpers import drag, wait_at_rest


def wait_for_result(qtbot, compare, after: int = -1):
    qtbot.waitUntil(lambda: compare.last_result is not None and compare.last_result.serial > after
                    and compare.last_result.teacher is not None, timeout=60_000)
    return compare.last_result


def test_figures_are_marked_stale_while_the_camera_moves(qtbot, make_window, demo_checkpoint):
    window = make_window(demo_checkpoint)
    compare = window.compare
    first = wait_for_result(qtbot, compare)
    assert "dB" in compare.metrics.text() and STALE not in compare.metrics.text() + compare.real.text()
    latency = compare.latency.text()
    assert re.search(r"\(\d+x\d+, median of \d+ frames?\)$", latency) and "last" not in latency, latency
    drag(window.canvas, (40, 80), (120, 70))
    for label in (compare.metrics, compare.real):
        assert label.text().endswith(f"({STALE})") and label.styleSheet(), label.text()
    wait_for_result(qtbot, compare, after=first.serial)
    assert STALE not in compare.metrics.text() + compare.real.text() and not compare.metrics.styleSheet()
    count = len(compare.student_times.values)
    assert count >= 2 and f"median of {count} frames" in compare.latency.text(), compare.latency.text()


def test_latency_medians_survive_training_snapshots_but_not_a_new_network(qtbot, make_window, demo_checkpoint):
    window = make_window(demo_checkpoint)
    compare, session = window.compare, window.session
    wait_for_result(qtbot, compare)
    teacher_count, student_count = len(compare.teacher_times.values), len(compare.student_times.values)
    assert teacher_count and student_count
    snapshot = copy.deepcopy(session.student)  # what a training snapshot is: the same network, other weights
    session.set_student(snapshot, "student (learning: distill)")
    assert (len(compare.teacher_times.values), len(compare.student_times.values)) == (teacher_count, student_count)
    smaller = Student(dataclasses.replace(session.student.config, width=16, blocks=1))
    session.set_student(smaller, "student (learning: distill)")
    assert len(compare.student_times.values) == 0 and len(compare.teacher_times.values) == teacher_count


def test_a_slow_teacher_shows_coarse_first_then_the_full_render(qtbot, make_window, demo_checkpoint, monkeypatch):
    from r2l_viewer.app.workers import render_worker
    from r2l_viewer.app.panels.compare_panel import COARSE

    real_call = render_worker.RayRenderer.__call__

    def slow_teacher(renderer, origins, directions):
        if not isinstance(renderer.model, Student):
            time.sleep(3e-4 * len(origins))  # a full 100x100 teacher view takes 3 s, a coarse one 0.2 s
        return real_call(renderer, origins, directions)

    monkeypatch.setattr(render_worker.RayRenderer, "__call__", slow_teacher)
    window = make_window(demo_checkpoint)
    wait_at_rest(qtbot, window)
    teacher = window.compare.teacher_view
    qtbot.waitUntil(lambda: teacher.image is not None, timeout=20_000)
    assert teacher.stale_note == COARSE and not teacher.dimmed and window.compare.last_result is None
    assert teacher.image.width() < 100
    qtbot.waitUntil(lambda: window.compare.last_result is not None, timeout=60_000)
    assert teacher.stale_note == "" and teacher.image.width() == 100
