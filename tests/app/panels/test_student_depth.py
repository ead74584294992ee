"""A student's depth in the viewer: the Train tab offers it as a check box that follows the form's config both ways,
and the Info tab says when a student gives depth."""

from __future__ import annotations

import dataclasses

from PyQt6.QtWidgets import QCheckBox

from r2l_viewer.app.panels.model_info import shape_text


def test_the_distill_form_has_a_depth_check_box(make_window, scene_copy):
    window = make_window(scene_copy)
    form = window.train.forms["distill"]
    editor, _ = form.editors["student.depth"]
    assert isinstance(editor, QCheckBox)
    start = form.config().student.depth
    assert editor.isChecked() is start
    editor.setChecked(not start)  # what a click does
    assert form.config().student.depth is (not start)
    form.set_config(dataclasses.replace(form.config(), student=dataclasses.replace(form.config().student, depth=start)))
    assert editor.isChecked() is start


def test_the_info_tab_says_when_a_student_gives_depth():
    config = {"blocks": 1, "width": 8, "points_per_ray": 4, "encoding": "frequency", "frequencies": 2}
    assert "depth" not in shape_text("student", config)
    assert shape_text("student", config | {"depth": True}).endswith("L=2, colour and depth out")
