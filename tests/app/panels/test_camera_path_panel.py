"""The Path tab in a real window: keyframes from the view (K), go to, delete, reorder, playback through the live
camera, nerfstudio JSON saved and loaded, the standard orbit; the Render video dialog on its real thread."""

from __future__ import annotations

import json

import imageio.v3 as iio
import pytest
import torch
from PyQt6.QtCore import Qt

from r2l_viewer.core.camera_path import frame_intrinsics, vertical_fov
from r2l_viewer.core.render import render_image

from ..helpers import drag


LUMA = torch.tensor([0.299, 0.587, 0.114], dtype=torch.float64)  # what yuv420p keeps at full resolution


def close(a, b, atol=1e-5) -> bool:
    return torch.allclose(a.double(), b.double(), atol=atol)


def add_views(qtbot, window, count: int = 3):
    """Press K on `count` views, orbiting between them."""
    for index in range(count):
        if index:
            window.live.orbit(60.0, 10.0)
        qtbot.keyClick(window.canvas, Qt.Key.Key_K)
    return window.path_panel


def test_k_adds_the_view_and_the_list_goes_to_deletes_and_reorders(qtbot, make_window, scene_copy):
    window = make_window(scene_copy)
    window.tabs.setCurrentIndex(window.tabs.count() - 1)  # the Path tab
    window.live.zoom(2.0)  # a narrower field of view than the scene's
    panel = add_views(qtbot, window)
    keys = panel.path.keyframes
    assert panel.keyframes.count() == 3 and len(keys) == 3
    assert close(keys[2].c2w, window.live.camera.c2w()) and keys[0].fov < 39.0
    panel.keyframes.setCurrentRow(0)
    panel.buttons["go"].click()
    shown = vertical_fov(window.session.meta.intrinsics.zoomed(window.live.camera.focal_scale))
    assert close(window.live.camera.c2w(), keys[0].c2w) and shown == pytest.approx(keys[0].fov)
    panel.buttons["down"].click()
    assert panel.path.keyframes[1] is keys[0] and panel.keyframes.currentRow() == 1
    panel.buttons["delete"].click()
    assert len(panel.path.keyframes) == 2 and panel.path.keyframes[0] is keys[1]


def test_playback_moves_the_live_camera_along_the_path_and_stops_at_its_end(qtbot, make_window, scene_copy):
    window = make_window(scene_copy)
    panel = add_views(qtbot, window, 2)
    panel.transition.setValue(0.5)
    start, end = (k.c2w for k in panel.path.keyframes)
    seen = []
    window.live.camera_moved.connect(lambda: seen.append(window.live.camera.c2w()))
    assert panel.play()
    qtbot.waitUntil(lambda: not panel.playing, timeout=5000)
    assert len(seen) >= 4 and close(seen[0], start, 1e-3) and close(seen[-1], end, 1e-5)
    assert any(not close(pose, start, 1e-3) and not close(pose, end, 1e-3) for pose in seen)  # in between
    panel.loop.setChecked(True)
    panel.play()
    qtbot.wait(800)  # past the path's end: a loop goes on
    assert panel.playing
    drag(window.canvas, (50, 50), (80, 60))  # the user takes the camera back
    assert not panel.playing


def test_a_path_saved_as_json_loads_back_into_the_list(qtbot, make_window, scene_copy, tmp_path):
    window = make_window(scene_copy)
    panel = add_views(qtbot, window)
    assert panel.save(tmp_path / "path.json")
    data = json.loads((tmp_path / "path.json").read_text())
    assert len(data["keyframes"]) == 3 and data["render_width"] == window.session.meta.intrinsics.width
    panel.buttons["clear"].click()
    assert panel.keyframes.count() == 0 and not panel.buttons["play"].isEnabled()
    assert panel.load(tmp_path / "path.json")
    assert panel.keyframes.count() == 3 and panel.path.file_frames is not None
    (tmp_path / "bad.json").write_text("{")
    messages = []
    panel.message.connect(messages.append)
    assert not panel.load(tmp_path / "bad.json")
    assert "bad.json: is not JSON" in messages[-1] and panel.keyframes.count() == 3


def test_the_standard_orbit_is_one_click_away(make_window, scene_copy):
    window = make_window(scene_copy)
    window.path_panel.buttons["orbit"].click()
    path = window.path_panel.path
    assert window.path_panel.keyframes.count() == 40 and path.loop and path.frame_count() == 40


def wait_for_render(qtbot, dialog, timeout=60_000):
    qtbot.waitUntil(lambda: not dialog.busy, timeout=timeout)


def test_render_video_writes_the_panels_path_on_a_thread(qtbot, make_window, scene_copy, tmp_path):
    window = make_window(scene_copy)
    panel = add_views(qtbot, window, 2)
    panel.transition.setValue(0.2)
    panel.fps.setValue(10.0)
    window.open_video_dialog()
    dialog = window.video_dialog
    assert dialog.path_choice.currentData() == "panel"
    dialog.width_box.setValue(32)
    dialog.height_box.setValue(24)
    dialog.out.setText(str(tmp_path / "panel.mp4"))
    with qtbot.waitSignal(dialog.ended, timeout=60_000) as ended:
        assert dialog.start()
    assert ended.args == ["done"]
    video = iio.imread(tmp_path / "panel.mp4")
    assert video.shape == (3, 24, 32, 3)  # 0.2 s at 10 fps, both ends
    for frame, shown in zip(panel.path.frames(), video):
        expected = render_image(window.session.student, frame.c2w.float(), frame_intrinsics(frame.fov, 32, 24)).rgb
        luma = LUMA @ (torch.from_numpy(shown).double().reshape(-1, 3).T / 255.0)
        assert (luma - LUMA @ expected.double().reshape(-1, 3).T).abs().mean() < 0.01


def test_stopping_a_render_leaves_no_file(qtbot, make_window, scene_copy, tmp_path):
    window = make_window(scene_copy)
    window.open_video_dialog()
    dialog = window.video_dialog
    dialog.model.setCurrentText("teacher")
    dialog.width_box.setValue(96)
    dialog.height_box.setValue(96)
    dialog.out.setText(str(tmp_path / "orbit.mp4"))
    assert dialog.start()
    qtbot.waitUntil(lambda: dialog.progress.maximum() > 0 and dialog.progress.value() >= 1, timeout=30_000)
    with qtbot.waitSignal(dialog.ended, timeout=30_000) as ended:
        dialog.buttons["stop"].click()
    assert ended.args == ["stopped"] and "nothing was written" in dialog.status.text()
    assert list(tmp_path.glob("*orbit*")) == []


def test_closing_the_window_stops_a_render_first(qtbot, make_window, scene_copy, tmp_path):
    window = make_window(scene_copy)
    window.open_video_dialog()
    dialog = window.video_dialog
    dialog.model.setCurrentText("teacher")
    dialog.out.setText(str(tmp_path / "frames"))
    assert dialog.start()
    qtbot.waitUntil(lambda: dialog.progress.maximum() > 0 and dialog.progress.value() >= 1, timeout=30_000)
    window.close()
    qtbot.waitUntil(lambda: window.is_closed, timeout=30_000)
    assert list(tmp_path.glob("*frames*")) == []
