"""Render modes in the window on the bundled demo: depth (the student's, colour-mapped, with its legend; the
teacher's, said so, for a student without depth), error against the teacher, back to colour; remembered for the
next window."""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import Qt
from PyQt6.QtTest import QTest

from r2l_viewer.app.workers.render_worker import to_uint8
from r2l_viewer.app.canvas.view_modes import NO_ERROR, NO_STUDENT_DEPTH
from r2l_viewer.app.view_settings import ViewSettings
from r2l_viewer.core.colormap import depth_image, error_image
from r2l_viewer.core.render import render_image

from tests.grid_scenes import with_grid_student

from ..helpers import wait_at_rest

SMALL = (80, 80)  # the teacher renders every full frame in depth and error modes: keep them small


def reference(window, model):
    """A model's render of the camera shown, at the size of the frame shown."""
    live = window.live
    h, w = live.last_frame.rgb.shape[:2]
    return render_image(model, live.pose(), live.intrinsics(w, h), 4096)


def close_to(frame: np.ndarray, expected: np.ndarray) -> bool:
    diff = np.abs(frame.astype(int) - expected.astype(int))
    return frame.shape == expected.shape and diff.mean() < 1.0 and (diff > 8).mean() < 0.005


def test_depth_and_error_modes_show_what_they_say_with_a_legend(qtbot, make_window, demo_checkpoint):
    window = make_window(demo_checkpoint, size=SMALL)
    live, session = window.live, window.session
    wait_at_rest(qtbot, window)
    assert not window.canvas.legend.isVisible() and window.mode_actions["colour"].isChecked()

    QTest.keyClick(window, Qt.Key.Key_2)
    wait_at_rest(qtbot, window, timeout=60_000)
    assert live.last_frame.key == ("student", "depth") and NO_STUDENT_DEPTH not in window.canvas.overlay
    near, far = live.depth_range()
    expected = to_uint8(depth_image(reference(window, session.student).depth, near, far))
    assert close_to(live.last_frame.rgb, expected)
    legend = window.canvas.legend
    assert legend.isVisible() and (legend.legend.low_text, legend.legend.high_text) == ("near 2.00", "far 6.00")

    QTest.keyClick(window, Qt.Key.Key_3)
    wait_at_rest(qtbot, window, timeout=60_000)
    assert live.last_frame.key == ("both", "error") and window.mode_actions["error"].isChecked()
    teacher, student = reference(window, session.teacher).rgb, reference(window, session.student).rgb
    assert close_to(live.last_frame.rgb, to_uint8(error_image(teacher, student)))
    assert legend.legend.colormap == "heat" and "teacher - student" in legend.legend.title
    assert ViewSettings.load().mode == "error"

    again = make_window(demo_checkpoint, size=SMALL)
    assert again.mode_actions["error"].isChecked() and again.live.plan.main.key == ("both", "error")
    QTest.keyClick(again, Qt.Key.Key_1)
    wait_at_rest(qtbot, again)
    assert again.live.last_frame.key == ("student", "rgb") and not again.canvas.legend.isVisible()
    assert ViewSettings.load().mode == "colour"


def test_a_student_without_depth_shows_the_teachers_and_says_so(qtbot, make_window, demo_checkpoint, tmp_path):
    scene = with_grid_student(demo_checkpoint, tmp_path / "colour-only.ckpt")  # a student distilled without depth
    window = make_window(scene, size=SMALL, view={"mode": "depth"})
    wait_at_rest(qtbot, window, timeout=60_000)
    live = window.live
    assert live.last_frame.key == ("teacher", "depth") and NO_STUDENT_DEPTH in window.canvas.overlay
    near, far = live.depth_range()
    expected = to_uint8(depth_image(reference(window, window.session.teacher).depth, near, far))
    assert close_to(live.last_frame.rgb, expected)


def test_error_mode_without_a_teacher_shows_colour_and_says_why(qtbot, make_window, scene_without_teacher):
    window = make_window(scene_without_teacher, size=SMALL)
    QTest.keyClick(window, Qt.Key.Key_3)
    wait_at_rest(qtbot, window)
    assert window.live.last_frame.key == ("student", "rgb") and NO_ERROR in window.canvas.overlay


def test_the_command_line_sets_the_view_for_one_session_without_saving_it(qtbot, make_window, demo_checkpoint):
    from r2l_viewer.app.main import build_parser, view_overrides

    args = build_parser().parse_args(["scene.ckpt", "--mode", "depth", "--split", "0.3"])
    assert view_overrides(args) == {"mode": "depth", "split": True, "divider": 0.3}
    assert view_overrides(build_parser().parse_args(["--split"])) == {"split": True, "divider": 0.5}
    assert view_overrides(build_parser().parse_args([])) == {}
    window = make_window(demo_checkpoint, size=SMALL, view={"mode": "error", "split": True, "divider": 0.3})
    assert window.mode_actions["error"].isChecked() and window.split_action.isChecked()
    assert window.live.plan.main.key == ("both", "error") and ViewSettings.load() == ViewSettings()
