"""Fixtures for the app tests: Qt on the xcb platform (real OpenGL under pytest-xvfb), scene copies, a window."""

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
    """Build main windows on checkpoints (napari style); every one is closed, its threads stopped, at teardown."""
    from r2l_viewer.app.session import SceneSession, open_scene
    from r2l_viewer.app.window import MainWindow

    windows = []

    def make(path, size=RENDER_SIZE):
        session = SceneSession(open_scene(path, CPU), CPU)
        window = MainWindow(session, "CPU (test)", size)
        qtbot.addWidget(window)
        with qtbot.waitExposed(window):  # (pytest-qt's waits are context managers: they wait on leaving)
            window.show()
        with qtbot.waitActive(window):  # keyboard shortcuts go to the active window
            window.activateWindow()
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.close()
