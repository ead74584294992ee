"""`r2l-viewer` as a command: bad files exit 2 before any window; --screenshot saves the window and exits 0."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import imageio.v3 as iio
import pytest
import torch

VIEWER = [sys.executable, "-m", "r2l_viewer.app.main"]


def run_viewer(*args, timeout=90, env=None):
    env = dict(os.environ, QT_QPA_PLATFORM="xcb") if env is None else env
    return subprocess.run([*VIEWER, *map(str, args)], capture_output=True, text=True, timeout=timeout, env=env)


def one_error_line(result) -> str:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("r2l-viewer: error:"), result.stderr
    return lines[0]


def free_x_display() -> str:
    """An X display number nothing serves (no socket, no lock file)."""
    for number in range(250, 400):
        if not Path(f"/tmp/.X11-unix/X{number}").exists() and not Path(f"/tmp/.X{number}-lock").exists():
            return f":{number}"
    pytest.skip("no free X display number")


def env_without_display(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    return env | extra


def test_a_missing_or_unreadable_file_exits_2_with_one_line(tmp_path):
    junk = tmp_path / "junk.ckpt"
    junk.write_bytes(b"\x00not a checkpoint")
    for path in (tmp_path / "missing.ckpt", junk, tmp_path):
        result = run_viewer(path, timeout=60)
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("r2l-viewer: error:") and str(path.name) in lines[0]
        assert result.stdout == ""


def test_the_default_screenshot_command_exits_0_within_60_seconds(tmp_path, demo_checkpoint):
    shot = tmp_path / "shot.png"
    started = time.monotonic()
    result = run_viewer("--screenshot", shot, timeout=120)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert elapsed < 60, f"took {elapsed:.0f} s"
    image = iio.imread(shot)
    assert image.shape[0] >= 600 and image.shape[1] >= 1000 and image.std() > 10


def test_an_unreachable_x_display_is_one_line_and_exit_2(tmp_path):
    display = free_x_display()
    for env in (env_without_display(DISPLAY=display), env_without_display(DISPLAY=display, QT_QPA_PLATFORM="xcb")):
        for args in ((), ("--screenshot", tmp_path / "shot.png")):
            line = one_error_line(run_viewer(*args, timeout=60, env=env))
            assert f"X display '{display}'" in line and "xvfb-run" in line


def test_no_display_at_all_is_one_line_and_exit_2():
    line = one_error_line(run_viewer(timeout=60, env=env_without_display()))
    assert "no display" in line


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_asking_for_cuda_without_a_gpu_is_one_line_and_exit_2():
    assert "no CUDA GPU" in one_error_line(run_viewer("--device", "cuda", timeout=60))


def test_a_bad_size_exits_2_and_says_what_is_expected():
    for size, said in (("big", "expected WIDTHxHEIGHT"), ("10x10", "out of range")):
        result = run_viewer("--size", size, timeout=60)
        assert result.returncode == 2 and said in result.stderr and "Traceback" not in result.stderr


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
