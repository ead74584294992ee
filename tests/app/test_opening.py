"""Opening scenes in a running window: File > Open, Open recent, a .ckpt dropped on the window; and Help > About."""

from __future__ import annotations

import torch
from PyQt6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PyQt6.QtGui import QDragEnterEvent, QDropEvent
from PyQt6.QtWidgets import QApplication, QFileDialog

from r2l_viewer import __version__

from .helpers import wait_at_rest


def _action(window, menu_title: str, text: str):
    menu = next(a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == menu_title)
    return next(a for a in menu.actions() if a.text() == text)


def _shows(qtbot, window, path, label: str) -> None:
    """The window has `path` open and its canvas shows `label`'s frames."""
    assert window.session.path == path and path.name in window.windowTitle()
    wait_at_rest(qtbot, window)
    assert window.live.last_frame.label.startswith(label)


def test_file_open_loads_the_chosen_scene(qtbot, make_window, demo_checkpoint, scene_without_teacher, monkeypatch):
    window = make_window(demo_checkpoint)
    chosen = []

    def choose(parent, title, folder, filters):
        chosen.append(filters)
        return str(scene_without_teacher), filters

    monkeypatch.setattr(QFileDialog, "getOpenFileName", choose)
    _action(window, "File", "Open scene...").trigger()
    assert chosen and "*.ckpt" in chosen[0]
    assert window.statusBar().currentMessage() == f"opened {scene_without_teacher}"
    _shows(qtbot, window, scene_without_teacher, "student")
    assert window.session.teacher is None
    assert window.compare.teacher_view.image is None


def _drag_events(path, mime: QMimeData):
    """Drag-enter and drop events carrying `path` (the caller keeps `mime` alive: the events only point to it)."""
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    buttons, keys, copy = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, Qt.DropAction.CopyAction
    return QDragEnterEvent(QPoint(40, 40), copy, mime, buttons, keys), QDropEvent(QPointF(40, 40), copy, mime,
                                                                                   buttons, keys)


def test_a_dropped_checkpoint_is_opened_and_other_files_are_not_taken(qtbot, make_window, scene_without_teacher,
                                                                      scene_copy, tmp_path):
    window = make_window(scene_without_teacher)
    note = tmp_path / "notes.txt"
    note.write_text("not a scene")
    note_mime, scene_mime = QMimeData(), QMimeData()
    enter, _ = _drag_events(note, note_mime)
    QApplication.sendEvent(window, enter)
    assert not enter.isAccepted()
    enter, drop = _drag_events(scene_copy, scene_mime)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(window, drop)
    _shows(qtbot, window, scene_copy, "student")
    assert window.session.teacher is not None


def test_open_recent_lists_earlier_scenes_and_opens_them(qtbot, make_window, scene_copy, scene_without_teacher):
    window = make_window(scene_copy)
    fresh = window.live.camera.c2w()
    window.live.orbit(60.0, 20.0)
    assert window.open_path(scene_without_teacher)
    assert torch.allclose(window.live.camera.c2w(), fresh)  # the opened scene starts at its own home view
    recent = window.recent_menu
    recent.aboutToShow.emit()
    entries = [a for a in recent.actions() if a.isEnabled()]
    assert [a.text().split()[0] for a in entries] == [scene_copy.name]  # the open one is not listed
    entries[0].trigger()
    _shows(qtbot, window, scene_copy, "student")


def test_a_bad_file_or_a_running_job_leaves_the_open_scene(qtbot, make_window, scene_copy, tmp_path, monkeypatch):
    window = make_window(scene_copy)
    bad = tmp_path / "broken.ckpt"
    bad.write_bytes(b"not a checkpoint")
    assert not window.open_path(bad)
    assert window.session.path == scene_copy and "not opened: " in window.statusBar().currentMessage()
    with monkeypatch.context() as patched:
        patched.setattr(type(window.train), "busy", property(lambda panel: True))
        assert not window.open_path(scene_copy)
    assert "while a job is running" in window.statusBar().currentMessage()


def test_help_about_names_the_versions_and_the_device(qtbot, make_window, demo_checkpoint):
    window = make_window(demo_checkpoint)
    _action(window, "Help", "About R2L Viewer").trigger()
    text = window.help_box.text()
    assert __version__ in text and torch.__version__ in text and "CPU (test)" in text
    window.help_box.close()
