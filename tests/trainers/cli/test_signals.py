"""SIGTERM (what timeout, systemd, docker and job schedulers send) stops a running job like Ctrl-C: it saves the
steps since the last save, then the command exits with 128 + the signal's number."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from r2l_viewer.core.checkpoint import load_payload, load_scene

ROOT = Path(__file__).resolve().parents[3]
ENDLESS_TEACHER = ["--teacher.steps", "1000000", "--teacher.save_every", "1000000", "--teacher.val_every", "0",
                   "--teacher.start_resolution", "16", "--teacher.upsample_steps", "999999",
                   "--teacher.grid.resolution", "24", "--teacher.batch_rays", "256", "--teacher.val_views", "1"]


def _start_teacher(out: Path) -> subprocess.Popen:
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen([sys.executable, "-m", "trainers.cli", "teacher", "--data", "demo", "--downscale", "16",
                             "--out", str(out), "--quiet", *ENDLESS_TEACHER],
                            cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)


def _wait_for_steps(process: subprocess.Popen, log: Path, timeout: float = 120.0) -> None:
    """Wait until the job has logged a progress record (it is past setup and taking steps)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the job ended early: {process.stderr.read()}")
        if log.exists() and any(json.loads(line).get("kind") == "progress" for line in log.read_text().splitlines()):
            return
        time.sleep(0.2)
    process.kill()
    pytest.fail("the job took no step in time")


@pytest.mark.parametrize("signum,code,name", [(signal.SIGTERM, 143, "SIGTERM"), (signal.SIGINT, 130, "Ctrl-C")],
                         ids=["SIGTERM", "SIGINT"])
def test_a_signal_saves_the_running_job_and_exits_with_its_code(tmp_path, signum, code, name):
    out = tmp_path / "scene.ckpt"
    process = _start_teacher(out)
    _wait_for_steps(process, tmp_path / "scene.metrics.jsonl")
    time.sleep(0.5)  # some steps past the first progress record
    process.send_signal(signum)
    try:
        _, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail("the job did not stop after the signal")
    assert process.returncode == code, err
    assert f"{name}: stopping after the current step and saving" in err and "--resume" in err
    state = load_payload(tmp_path / "scene.resume" / "teacher.pt")
    teacher = load_scene(out).teacher
    assert state["step"] > 0 and teacher["step"] == state["step"] and not teacher["complete"]
