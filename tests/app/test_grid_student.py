"""A grid-encoded student in the viewer: its scene opens and the canvas renders it, the Info panel says its encoding
and both models' frame times, and a Distill started from the Train tab with encoding "grid" builds one."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QComboBox

from r2l_viewer.app.workers.render_worker import to_uint8
from r2l_viewer.core.models import StudentConfig
from r2l_viewer.core.render import render_image

from ..grid_scenes import TINY_GRID_STUDENT, TINY_GRID_TEXT, with_grid_student
from .conftest import yes
from .helpers import wait_at_rest


@pytest.fixture
def grid_scene(tmp_path, demo_checkpoint):
    return with_grid_student(demo_checkpoint, tmp_path / "grid.ckpt")


def info_row(rows: list, model: str, name: str) -> str:
    """The value of a model's indented row ("  size", "  cost", "  speed") in the Info panel's rows."""
    start = next(i for i, (key, _) in enumerate(rows) if key == model)
    return next(value for key, value in rows[start + 1:] if key == name)


def test_a_grid_student_scene_opens_and_the_canvas_renders_it(qtbot, make_window, grid_scene):
    window = make_window(grid_scene)
    wait_at_rest(qtbot, window)
    student = window.session.student
    assert student.config.encoding == "grid" and window.live.last_frame.label.startswith("student")
    assert window.canvas.uses_gl and window.canvas.frames_drawn > 0, window.canvas.gl_error
    frame = window.live.last_frame.rgb
    height, width = frame.shape[:2]
    with torch.no_grad():
        expected = render_image(student, window.live.camera.c2w(), window.live.intrinsics(width, height), 4096).rgb
    assert np.abs(frame.astype(int) - to_uint8(expected)).max() <= 1, "the canvas shows another model's image"


def test_the_info_panel_says_the_grid_encoding_and_both_frame_times(qtbot, make_window, grid_scene):
    window = make_window(grid_scene)
    rows = window.info.rows
    assert TINY_GRID_TEXT in dict(rows)["student"] and "grid lookups not counted" in info_row(rows, "student", "  cost")
    assert "kB on disk" in info_row(rows, "student", "  size") and "MB on disk" in info_row(rows, "teacher", "  size")
    assert "not timed yet" in info_row(rows, "student", "  speed")
    compare = window.compare
    qtbot.waitUntil(lambda: compare.last_result is not None and compare.last_result.teacher is not None,
                    timeout=60_000)
    rows, size = window.info.rows, compare.latencies.size_note
    assert size == "100x100"  # the demo's own resolution, at which Compare renders both
    for model in ("teacher", "student"):
        speed = info_row(rows, model, "  speed")
        assert " ms per frame at 100x100 (median of " in speed and "Compare frame" in speed, speed
    assert "x faster than the teacher (at 100x100)" in dict(rows)["speed ratio"]


def test_a_distill_from_the_train_tab_with_encoding_grid_builds_a_grid_student(qtbot, make_window, scene_copy,
                                                                                 dialogs, monkeypatch):
    monkeypatch.setattr("r2l_viewer.app.workers.job_thread.SNAPSHOT_SECONDS", 0.0)
    window = make_window(scene_copy)
    dialogs.reply = yes()  # the demo has a student: replace it
    form = window.train.forms["distill"]
    editor, _ = form.editors["student.encoding"]
    choices = [editor.itemText(i) for i in range(editor.count())]
    assert isinstance(editor, QComboBox) and choices == ["frequency", "grid"]
    tiny = dataclasses.replace(TINY_GRID_STUDENT, encoding="frequency", frequencies=2)
    form.set_config(dataclasses.replace(
        form.config(), student=tiny, steps=10, batch_rays=256, hard_rays=32, online=True, online_buffer=2,
        online_every=10, warmup_steps=2, val_every=0, val_views=1, save_every=100_000))
    assert editor.currentText() == "frequency"
    window.train.run_options = {"downscale": 12}
    editor.setCurrentText("grid")  # what choosing it in the drop-down does
    assert form.config().student.encoding == "grid"
    with qtbot.waitSignal(window.train.job_ended, timeout=120_000) as ended, \
            qtbot.waitSignal(window.session.scene_changed, timeout=120_000):
        qtbot.mouseClick(window.train.buttons["distill"], Qt.MouseButton.LeftButton)
    assert ended.args == ["done"], window.train.status.text()
    record, student = window.session.checkpoint.student, window.session.student
    assert record["config"]["encoding"] == "grid" and list(record["config"]["grid_planes"]) == [8, 16]
    assert student.config.encoding == "grid" and len(student.grid_parameters()) == 2
    assert isinstance(student.config, StudentConfig) and TINY_GRID_TEXT in dict(window.info.rows)["student"]
