"""The Train tab offers the student's depth output as a check box that follows the form's config both ways."""

from __future__ import annotations

import dataclasses

from PyQt6.QtWidgets import QCheckBox


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
