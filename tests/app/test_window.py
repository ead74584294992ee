"""The window on the bundled demo: a real GL canvas with pixels, mouse orbit and zoom, keys, the compare panel."""

from __future__ import annotations

import math

import imageio.v3 as iio
import numpy as np
from PyQt6.QtCore import Qt
from PyQt6.QtTest import QTest

from r2l_viewer.app.panels.compare_panel import NO_STUDENT, NO_TEACHER

from .helpers import at_rest, drag, image_array, wait_at_rest, wheel


def changed(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and np.abs(a.astype(int) - b).mean() > 2


def coverage(rgb: np.ndarray) -> float:
    """Fraction of pixels that are not the demo's white background."""
    return float((rgb.min(axis=-1) < 200).mean())


def test_window_opens_on_the_demo_with_a_rendered_canvas(qtbot, make_window, demo_checkpoint):
    window = make_window(demo_checkpoint)
    wait_at_rest(qtbot, window)
    assert window.canvas.uses_gl and window.canvas.blitter is not None, window.canvas.gl_error
    pixels = image_array(window.canvas.frame_image())
    rect = window.canvas.display_rect()
    ratio = window.canvas.devicePixelRatioF()
    inside = pixels[round(rect.top() * ratio): round(rect.bottom() * ratio), round(rect.left() * ratio): round(rect.right() * ratio)]
    assert inside.std() > 20, "the canvas shows a flat image"
    assert len(np.unique(inside.reshape(-1, 3), axis=0)) > 50
    overlay = window.canvas.overlay
    assert overlay and "ms/frame" in overlay[0] and "160x160 full" in overlay[1] and "CPU (test)" in overlay[2]
    assert window.canvas.overlay_label.isVisible()


def test_left_drag_orbits_and_changes_the_image(qtbot, make_window, demo_checkpoint):
    window = make_window(demo_checkpoint)
    wait_at_rest(qtbot, window)
    before_azimuth, before = window.live.camera.azimuth, window.live.last_frame.rgb
    drag(window.canvas, (40, 80), (120, 70))
    assert window.live.camera.azimuth != before_azimuth
    assert not at_rest(window)
    wait_at_rest(qtbot, window)
    assert changed(window.live.last_frame.rgb, before)


def test_wheel_zooms_in_right_and_middle_drag_pan_and_r_resets(qtbot, make_window, demo_checkpoint):
    window = make_window(demo_checkpoint)
    wait_at_rest(qtbot, window)
    camera, before = window.live.camera, window.live.last_frame.rgb
    radius, center = camera.radius, camera.center
    wheel(window.canvas, 2)  # the demo has a student: zoom as its pseudo views were made, with the focal length
    assert math.isclose(camera.focal_scale, 1 / 0.81, rel_tol=1e-6) and camera.radius == radius
    wait_at_rest(qtbot, window)
    zoomed = window.live.last_frame.rgb
    assert changed(zoomed, before) and coverage(zoomed) > coverage(before) * 1.1, "zooming in enlarges the object"
    drag(window.canvas, (80, 80), (100, 80), button=Qt.MouseButton.RightButton)
    panned = camera.center
    assert panned != center and math.isclose(camera.focal_scale, 1 / 0.81, rel_tol=1e-6)
    drag(window.canvas, (80, 80), (80, 100), button=Qt.MouseButton.MiddleButton)
    assert camera.center != panned
    wait_at_rest(qtbot, window)
    assert changed(window.live.last_frame.rgb, zoomed)
    QTest.keyClick(window, Qt.Key.Key_R)
    assert camera.radius == radius and camera.center == center and camera.focal_scale == 1.0


def test_the_camera_stays_where_the_student_was_trained(qtbot, make_window, demo_checkpoint):
    window = make_window(demo_checkpoint)
    wait_at_rest(qtbot, window)
    home = window.live.last_frame.rgb
    for _ in range(10):
        wheel(window.canvas, -1)  # ten notches out
    wait_at_rest(qtbot, window)
    far_out = window.live.last_frame.rgb
    assert abs(coverage(far_out) - coverage(home)) < 0.1 * coverage(home), "the object left the student's range"
    assert coverage(far_out) > 0.05 and "zoom limit" in window.canvas.overlay[-1]
    assert window.live.camera.radius == window.session.meta.orbit_radius
    wheel(window.canvas, 1)
    assert "zoom limit" not in window.canvas.overlay[-1] or window.live.moving


def test_a_rest_frame_capped_on_a_stale_estimate_is_rendered_again_at_full_size(qtbot, make_window, demo_checkpoint):
    window = make_window(demo_checkpoint)
    wait_at_rest(qtbot, window)
    window.live.governor.seconds_per_pixel = 1e-3  # as if 160x160 took 25 s: over the rest budget, so capped
    with qtbot.waitSignal(window.live.full_frame_shown, timeout=30_000) as shown:
        window.live.refresh()
    assert shown.args[0].rgb.shape[:2] == (160, 160) and "160x160 full" in window.canvas.overlay[1]


def test_s_saves_the_rendered_view(qtbot, make_window, demo_checkpoint, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    window = make_window(demo_checkpoint)
    wait_at_rest(qtbot, window)
    QTest.keyClick(window, Qt.Key.Key_S)
    saved = list(tmp_path.glob("r2l-view-*.png"))
    assert len(saved) == 1 and np.array_equal(iio.imread(saved[0]), window.live.last_frame.rgb)


def test_compare_panel_shows_teacher_student_metrics_and_the_real_image(qtbot, make_window, demo_checkpoint):
    window = make_window(demo_checkpoint)
    compare = window.compare
    qtbot.waitUntil(lambda: compare.last_result is not None and compare.last_result.teacher is not None,
                    timeout=60_000)
    result = compare.last_result
    assert result.teacher is not None and result.student is not None
    assert 10 < result.psnr < 60 and 0 < result.ssim <= 1
    assert "dB" in compare.metrics.text() and "faster" in compare.latency.text()
    assert not compare.teacher_view.stale_note
    compare.heatmap.setChecked(True)
    assert compare.error_view.isVisible() and compare.error_view.image is not None
    QTest.keyClick(window, Qt.Key.Key_BracketLeft)  # the last dataset camera: a val view
    assert window.live.camera.pinned is not None and window.live.camera_ref == ("val", 9)
    assert compare.teacher_view.stale_note and compare.error_view.stale_note
    qtbot.waitUntil(lambda: bool(compare.last_result.real_psnr), timeout=90_000)
    assert set(compare.last_result.real_psnr) == {"teacher", "student"}
    assert "val camera" in compare.real.text() and not compare.teacher_view.stale_note
    QTest.keyClick(window, Qt.Key.Key_BracketRight)  # back to the first dataset camera
    assert window.live.camera_ref == ("train", 0)


def test_without_opengl_the_painter_canvas_shows_the_frames(qtbot, make_window, demo_checkpoint, monkeypatch):
    monkeypatch.setenv("R2L_VIEWER_NO_GL", "1")
    window = make_window(demo_checkpoint)
    assert not window.canvas.uses_gl
    wait_at_rest(qtbot, window)
    assert image_array(window.canvas.frame_image()).std() > 20


def test_a_scene_without_a_teacher_shows_the_student_and_says_so(qtbot, make_window, scene_without_teacher):
    window = make_window(scene_without_teacher)
    wait_at_rest(qtbot, window)
    assert window.live.last_frame.label.startswith("student")
    compare = window.compare
    qtbot.waitUntil(lambda: compare.last_result is not None, timeout=30_000)
    assert compare.last_result.student is not None and compare.last_result.teacher is None
    assert compare.teacher_view.image is None and compare.teacher_view.empty_note == NO_TEACHER
    assert "needs both" in compare.metrics.text()
    assert ("teacher", "none in this checkpoint") in window.info.rows


def test_a_scene_without_a_student_shows_the_teacher_and_says_so(qtbot, make_window, scene_without_student):
    window = make_window(scene_without_student)
    compare = window.compare
    assert compare.student_view.empty_note == NO_STUDENT
    wait_at_rest(qtbot, window, timeout=60_000)
    assert "teacher (no student yet)" in window.canvas.overlay[2]
    drag(window.canvas, (40, 80), (90, 80))
    wait_at_rest(qtbot, window, timeout=60_000)
    assert compare.student_view.image is None, "the live teacher must not show up as the student"
    assert ("student", "none in this checkpoint") in window.info.rows


def test_a_scene_without_models_opens_with_a_message(qtbot, make_window, scene_without_models):
    window = make_window(scene_without_models)
    message = window.canvas.message_label
    assert message.isVisible() and "no teacher and no student" in message.text()
    assert window.compare.teacher_view.empty_note == NO_TEACHER
    assert window.compare.student_view.empty_note == NO_STUDENT
    azimuth = window.live.camera.azimuth
    drag(window.canvas, (40, 80), (90, 80))
    assert window.live.camera.azimuth != azimuth and window.live.last_frame is None and message.isVisible()


def test_a_screenshot_waits_for_a_full_size_frame_however_slow_the_model(qtbot, make_window, demo_checkpoint, tmp_path):
    from r2l_viewer.app.screenshot import ScreenshotOnReady

    window = make_window(demo_checkpoint)
    wait_at_rest(qtbot, window)
    window.live.governor.max_rest_seconds = 1e-4  # as with a slow model: rest frames get capped to a smaller size
    with qtbot.waitSignal(window.live.full_frame_shown, timeout=30_000) as shown:
        window.live.refresh()
    assert not window.live.is_full_size(shown.args[0]), "the premise: a capped rest frame"
    shot = tmp_path / "shot.png"
    taker = ScreenshotOnReady(window, str(shot), timeout_s=60)
    window.live.refresh()  # (the command's first frames come after the taker is made; here a fresh one)
    qtbot.waitUntil(lambda: window.is_closed, timeout=60_000)
    assert taker.exit_code == 0 and shot.exists()
    assert taker.saved_frame.rgb.shape[:2] == (160, 160) and window.live.is_full_size(taker.saved_frame)


def test_frames_while_dragging_are_smaller_than_the_rest_frame(qtbot, make_window, demo_checkpoint):
    window = make_window(demo_checkpoint, size=(480, 480))
    wait_at_rest(qtbot, window, timeout=60_000)
    frames = []
    window.live.frame_shown.connect(frames.append)
    for step in range(4):  # a slow drag: each move renders (newest camera wins) before the camera comes to rest
        drag(window.canvas, (100 + 20 * step, 100), (120 + 20 * step, 110), steps=2)
        qtbot.wait(40)
    wait_at_rest(qtbot, window, timeout=60_000)
    rest = window.live.last_frame  # full size, unless this machine is too slow for it within the rest budget
    moving = [f for f in frames if not f.full]
    assert rest.full and moving and all(f.pixels < rest.pixels for f in moving), [f.rgb.shape for f in moving]
