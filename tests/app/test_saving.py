"""Where results go: S saves the view into a folder that takes it (else says why), the window is saved or the
failure is said, and training on the bundled demo goes into a new copy each session, never over an older one."""

from __future__ import annotations

import numpy as np
import imageio.v3 as iio
from PyQt6.QtCore import Qt
from PyQt6.QtTest import QTest
from PyQt6.QtWidgets import QFileDialog

from r2l_viewer.app.session import SceneSession, open_scene

from .conftest import BUNDLED, CPU, yes
from .helpers import wait_at_rest
from .panels.test_training import set_tiny_distill


def leave_a_deleted_folder(tmp_path, monkeypatch):
    """Run from a folder that no longer exists: nothing can be written 'here' (as root too). (After torch's
    lazy imports, some of which ask for the current folder.)"""
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()


def test_s_falls_back_to_pictures_when_the_current_folder_cannot_take_it(qtbot, make_window, tmp_path, monkeypatch):
    home = tmp_path / "home"
    (home / "Pictures").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    window = make_window(BUNDLED)
    wait_at_rest(qtbot, window)
    leave_a_deleted_folder(tmp_path, monkeypatch)
    QTest.keyClick(window, Qt.Key.Key_S)
    saved = list((home / "Pictures").glob("r2l-view-*.png"))
    assert len(saved) == 1 and np.array_equal(iio.imread(saved[0]), window.live.last_frame.rgb)
    assert window.statusBar().currentMessage() == f"saved the view as {saved[0]}"


def test_s_says_why_when_no_folder_takes_the_view(qtbot, make_window, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "no-home"))
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("R2L_VIEWER_CACHE", str(blocker / "cache"))
    window = make_window(BUNDLED)
    wait_at_rest(qtbot, window)
    leave_a_deleted_folder(tmp_path, monkeypatch)
    QTest.keyClick(window, Qt.Key.Key_S)
    message = window.statusBar().currentMessage()
    assert message.startswith("could not save the view (") and "Not a directory" in message, message
    assert "\n" not in message


def test_saving_the_window_says_where_or_why_not(qtbot, make_window, tmp_path, monkeypatch):
    window = make_window(BUNDLED)
    answers = iter([str(tmp_path / "missing" / "window.png"), str(tmp_path / "window")])
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kwargs: (next(answers), ""))
    QTest.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert window.statusBar().currentMessage().startswith(f"could not save the window as {tmp_path / 'missing'}")
    QTest.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    saved = tmp_path / "window.png"
    assert saved.exists() and window.statusBar().currentMessage() == f"saved the window as {saved}"
    assert iio.imread(saved).shape[1] == window.width() * round(window.devicePixelRatioF())


def test_each_session_trains_into_a_new_copy_of_the_demo(qapp, cache_dir):
    first = SceneSession(open_scene(BUNDLED, CPU), CPU)
    copy, note = first.job_path()
    assert copy.is_relative_to(cache_dir) and copy.read_bytes() == BUNDLED.read_bytes()
    assert str(copy) in note and f"r2l-viewer {copy}" in note
    assert first.job_path() == (copy, None), "the session's later jobs continue in its copy"
    copy.write_bytes(b"what the first session trained")
    second = SceneSession(open_scene(BUNDLED, CPU), CPU)
    other, _ = second.job_path()
    assert other != copy and other.read_bytes() == BUNDLED.read_bytes()
    assert copy.read_bytes() == b"what the first session trained"


def test_training_the_demo_says_where_the_copy_is(qtbot, make_window, cache_dir, dialogs):
    window = make_window(BUNDLED)
    dialogs.reply = yes()
    set_tiny_distill(window, steps=1_000_000)
    qtbot.mouseClick(window.train.buttons["distill"], Qt.MouseButton.LeftButton)
    copy = window.train.thread.ctx.workspace.checkpoint
    assert copy.parent.parent == cache_dir and copy.name == "demo.ckpt"
    assert f"the bundled demo stays as shipped, so this training goes into a new copy: {copy}" in \
        window.train.log.toPlainText()
