"""Fixtures for the app tests: Qt on the xcb platform (real OpenGL under pytest-xvfb), scene copies, a window,
answers to the app's questions, and a cache folder of the test's own."""

from __future__ import annotations

import os
import shutil

os.environ["QT_QPA_PLATFORM"] = "xcb"  # 'offscreen' has no OpenGL; pytest-xvfb provides the X display

import pytest
import torch

from r2l_viewer.core.checkpoint import load_scene, save_scene

BUNDLED = __import__("r2l_viewer.app.session", fromlist=["BUNDLED_DEMO"]).BUNDLED_DEMO
CPU = torch.device("cpu")
RENDER_SIZE = (160, 160)


class Dialogs:
    """Stands in for QMessageBox.question: records each question and gives `reply`; with no reply set, a
    question fails the test (a real modal box would hang it)."""

    def __init__(self):
        self.questions: list[str] = []
        self.reply = None

    def question(self, parent, title, text, *args, **kwargs):
        self.questions.append(text)
        if self.reply is None:
            raise AssertionError(f"unexpected question: {text}")
        return self.reply


@pytest.fixture(autouse=True)
def dialogs(monkeypatch):
    from PyQt6.QtWidgets import QMessageBox

    recorder = Dialogs()
    monkeypatch.setattr(QMessageBox, "question", recorder.question)
    return recorder


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    """The viewer's cache (copies of the bundled demo for training, saved views) inside the test's folder."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("R2L_VIEWER_CACHE", str(folder))
    return folder


@pytest.fixture(autouse=True)
def config_dir(tmp_path, monkeypatch):
    """The viewer's config folder (recent files) inside the test's folder."""
    folder = tmp_path / "config"
    monkeypatch.setenv("R2L_VIEWER_CONFIG", str(folder))
    return folder


def yes():
    from PyQt6.QtWidgets import QMessageBox

    return QMessageBox.StandardButton.Yes


@pytest.fixture(scope="session")
def demo_checkpoint():
    if not BUNDLED.exists():
        pytest.fail(f"{BUNDLED} is missing: run `make demo-assets`")
    return BUNDLED


@pytest.fixture
def scene_copy(tmp_path, demo_checkpoint):
    """A writable copy of the bundled demo (jobs save into it)."""
    path = tmp_path / "scene.ckpt"
    shutil.copyfile(demo_checkpoint, path)
    return path


def demo_without(tmp_path, demo_checkpoint, *models: str):
    """A copy of the demo with the named models ('teacher', 'student') removed."""
    scene = load_scene(demo_checkpoint)
    for name in models:
        setattr(scene, name, None)
    path = tmp_path / f"without-{'-'.join(models)}.ckpt"
    save_scene(path, scene)
    return path


@pytest.fixture
def scene_without_student(tmp_path, demo_checkpoint):
    return demo_without(tmp_path, demo_checkpoint, "student")


@pytest.fixture
def scene_without_teacher(tmp_path, demo_checkpoint):
    return demo_without(tmp_path, demo_checkpoint, "teacher")


@pytest.fixture
def scene_without_models(tmp_path, demo_checkpoint):
    return demo_without(tmp_path, demo_checkpoint, "teacher", "student")


@pytest.fixture
def make_window(qtbot):
    """Build main windows on checkpoints (napari style). At teardown, before pytest-qt closes and deletes each
    one, a job left running is stopped and the window is closed for real (it ends its threads first)."""
    from r2l_viewer.app.session import SceneSession, open_scene
    from r2l_viewer.app.window import MainWindow

    def close_for_real(window):
        if window.train.busy:
            window.train.stop()
            qtbot.waitUntil(lambda: not window.train.busy, timeout=60_000)
        window.close()
        qtbot.waitUntil(lambda: window.is_closed, timeout=30_000)

    def make(path, size=RENDER_SIZE, **options):
        session = SceneSession(open_scene(path, CPU), CPU)
        window = MainWindow(session, "CPU (test)", size, **options)
        qtbot.addWidget(window, before_close_func=close_for_real)
        with qtbot.waitExposed(window):  # (pytest-qt's waits are context managers: they wait on leaving)
            window.show()
        with qtbot.waitActive(window):  # keyboard shortcuts go to the active window
            window.activateWindow()
        return window

    return make
