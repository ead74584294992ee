"""`r2l-viewer` as a command: bad files exit 2 before any window; --screenshot saves the window and exits 0."""

from __future__ import annotations

import os
import subprocess
import sys

import imageio.v3 as iio

VIEWER = [sys.executable, "-m", "r2l_viewer.app.main"]


def run_viewer(*args, timeout=90):
    env = dict(os.environ, QT_QPA_PLATFORM="xcb")
    return subprocess.run([*VIEWER, *map(str, args)], capture_output=True, text=True, timeout=timeout, env=env)


def test_a_missing_or_unreadable_file_exits_2_with_one_line(tmp_path):
    junk = tmp_path / "junk.ckpt"
    junk.write_bytes(b"\x00not a checkpoint")
    for path in (tmp_path / "missing.ckpt", junk, tmp_path):
        result = run_viewer(path, timeout=60)
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("r2l-viewer: error:") and str(path.name) in lines[0]
        assert result.stdout == ""


def test_screenshot_saves_the_window_and_exits_0(tmp_path, demo_checkpoint):
    shot = tmp_path / "shot.png"
    result = run_viewer("--size", "160x160", "--screenshot", shot)
    assert result.returncode == 0, result.stderr
    image = iio.imread(shot)
    assert image.shape[0] > 300 and image.shape[1] > 500 and image.std() > 10


def test_a_scene_without_models_is_saved_without_waiting(tmp_path, scene_without_models):
    shot = tmp_path / "empty.png"
    result = run_viewer(scene_without_models, "--size", "160x160", "--screenshot", shot, timeout=60)
    assert result.returncode == 0, result.stderr
    assert iio.imread(shot).shape[1] > 500


def test_the_viewer_makes_idle_openmp_threads_sleep_before_torch_starts():
    code = ("import os, sys; import r2l_viewer.app.main; "
            "print(os.environ.get('OMP_WAIT_POLICY'), 'torch' in sys.modules)")
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert result.stdout.split() == ["PASSIVE", "False"]
