"""The split view on a real GL canvas under Xvfb: teacher pixels left of the divider, student pixels right of it,
the divider dragged with the mouse, and the split remembered for the next window."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from PyQt6.QtCore import Qt
from PyQt6.QtTest import QTest

from r2l_viewer.app.workers.render_worker import to_uint8
from r2l_viewer.app.view_settings import ViewSettings
from r2l_viewer.core.render import render_image

from ..helpers import at_rest, drag, image_array

RED = np.array([255, 0, 0])


def red_student(student):
    """The scene's student made plainly distinguishable from its teacher: every ray pure red (the rays that cross
    none of its occupied cells too: they show its background)."""
    red = copy.deepcopy(student)
    with torch.no_grad():
        red.tail.weight.zero_()
        red.tail.bias.zero_()
        red.tail.bias[:3] = torch.tensor([20.0, -20.0, -20.0])  # (a fourth output, depth, stays as it was set)
        if red.config.uses_occupancy:
            red.background.copy_(torch.tensor([1.0, 0.0, 0.0]))
    return red


def split_at_rest(window) -> bool:
    left = window.live.left_frame
    return at_rest(window) and left is not None and left.full and left.serial == window.live.last_frame.serial


def frame_pixels(window) -> tuple[np.ndarray, int, int]:
    """The canvas' framebuffer sampled at the centre of every pixel of the frame shown (H x W x 3), and the
    divider's column in frame pixels (the first column right of it)."""
    canvas = window.canvas
    grabbed = image_array(canvas.frame_image())
    rect, (h, w) = canvas.display_rect(), window.live.last_frame.rgb.shape[:2]
    xs = np.floor(rect.x() + (np.arange(w) + 0.5) * rect.width() / w).astype(int)
    ys = np.floor(rect.y() + (np.arange(h) + 0.5) * rect.height() / h).astype(int)
    divider = (canvas.divider_line_x() - rect.x()) * w / rect.width()
    return grabbed[ys][:, xs], int(round(divider)), w


@pytest.mark.parametrize("canvas", ["opengl", "painter"])
def test_the_split_view_shows_teacher_pixels_left_of_the_divider_and_student_pixels_right(
        qtbot, make_window, scene_copy, canvas, monkeypatch):
    if canvas == "painter":
        monkeypatch.setenv("R2L_VIEWER_NO_GL", "1")  # the fallback where no OpenGL context can be made
    window = make_window(scene_copy)
    window.session.set_student(red_student(window.session.student), "student (red)")
    QTest.keyClick(window, Qt.Key.Key_V)
    assert window.split_action.isChecked() and window.live.plan.left is not None
    qtbot.waitUntil(lambda: split_at_rest(window), timeout=60_000)
    assert window.canvas.uses_gl == (canvas == "opengl"), window.canvas.gl_error
    live = window.live
    h, w = live.last_frame.rgb.shape[:2]
    teacher = to_uint8(render_image(window.session.teacher, live.pose(), live.intrinsics(w, h), 4096).rgb)
    pixels, divider, width = frame_pixels(window)
    assert abs(divider - width / 2) <= 1 and window.canvas.side_labels[0].isVisible()
    left, right = pixels[:, : divider - 3].astype(int), pixels[:, divider + 3 :].astype(int)
    assert np.abs(left - teacher[:, : divider - 3]).mean() < 8, "left of the divider is not the teacher"  # (resampled)
    assert (np.abs(right - RED).max(axis=-1) <= 2).mean() > 0.99, "right of the divider is not the student"
    assert (np.abs(left - RED).max(axis=-1) <= 2).mean() < 0.01

    rect = window.canvas.display_rect()
    start, end = window.canvas.divider_line_x(), rect.x() + round(0.25 * rect.width())
    drag(window.canvas, (start, rect.center().y()), (end, rect.center().y()))
    assert abs(live.view.divider - 0.25) < 0.02 and ViewSettings.load().divider == live.view.divider
    pixels, moved, width = frame_pixels(window)
    assert abs(moved - width / 4) <= 1
    between = pixels[:, moved + 3 : divider - 3].astype(int)  # was the teacher's, now the student's side
    assert (np.abs(between - RED).max(axis=-1) <= 2).mean() > 0.99


def test_dragging_the_divider_does_not_move_the_camera_and_the_split_is_remembered(
        qtbot, make_window, demo_checkpoint):
    window = make_window(demo_checkpoint)
    QTest.keyClick(window, Qt.Key.Key_V)
    qtbot.waitUntil(lambda: window.canvas.divider_line_x() is not None, timeout=30_000)
    pose, rect = window.live.pose(), window.canvas.display_rect()
    x = window.canvas.divider_line_x()
    drag(window.canvas, (x + 1, rect.center().y()), (x + rect.width() // 5, rect.center().y() + 30))
    assert torch.equal(window.live.pose(), pose), "a divider drag must not orbit"
    divider = window.live.view.divider
    assert divider > 0.6
    drag(window.canvas, (rect.x() + 10, rect.center().y()), (rect.x() + 40, rect.center().y()))
    assert not torch.equal(window.live.pose(), pose), "a drag away from the divider still orbits"
    again = make_window(demo_checkpoint)
    assert again.split_action.isChecked() and again.live.view.divider == divider
    assert again.canvas.split_active and again.canvas.divider == divider
