"""Starting real multi-process runs as users do: `torchrun ... -m trainers.cli JOB` (the torchrun module form),
or the processes one by one with the environment torchrun gives them; and the tiny test preset as CLI flags."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import fields, is_dataclass
from pathlib import Path

import pytest
import torch

from r2l_viewer.core.checkpoint import load_scene

from tests.trainers.conftest import DEMO_DOWNSCALE

ROOT = Path(__file__).resolve().parents[3]
SCENE_FLAGS = ["--data", "demo", "--downscale", str(DEMO_DOWNSCALE), "--device", "cpu"]


def config_flags(config, prefix: str) -> list[str]:
    """Every command-line-settable field of a job config as `--prefix.field value` flags (nested configs
    included), so a CLI run uses exactly the config a test built."""
    flags = []
    for f in fields(config):
        value = getattr(config, f.name)
        if is_dataclass(value):
            flags += config_flags(value, f"{prefix}.{f.name}")
        elif value is not None and not f.metadata.get("scene") and not isinstance(value, dict):
            text = ",".join(map(str, value)) if isinstance(value, tuple) else str(value).lower() \
                if isinstance(value, bool) else str(value)
            flags += [f"--{prefix}.{f.name}={text}"]
    return flags


def child_env(**extra) -> dict:
    """The environment of a child process: this checkout first on the path, one thread per process."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return os.environ | {"PYTHONPATH": path, "OMP_NUM_THREADS": "1"} | extra


def cli(args: list[str], timeout: float = 120) -> subprocess.CompletedProcess:
    """`python -m trainers.cli ARGS` in one process (the same command without torchrun)."""
    return subprocess.run([sys.executable, "-m", "trainers.cli", *args], cwd=ROOT, env=child_env(),
                          capture_output=True, text=True, timeout=timeout)


def torchrun_command(args: list[str], processes: int = 2) -> list[str]:
    """`torchrun --standalone --nproc_per_node N -m trainers.cli ARGS`, with torchrun as `python -m
    torch.distributed.run` (the same program; --standalone picks a free rendezvous port)."""
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}",
            "-m", "trainers.cli", *args]


def torchrun(args: list[str], processes: int = 2, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(torchrun_command(args, processes), cwd=ROOT, env=child_env(), capture_output=True,
                          text=True, timeout=timeout)


def start_torchrun(args: list[str], processes: int = 2) -> subprocess.Popen:
    return subprocess.Popen(torchrun_command(args, processes), cwd=ROOT, env=child_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_ranks(args: list[str], world: int = 2) -> list[subprocess.Popen]:
    """The processes of a run started one by one, each with the environment torchrun would give it (RANK,
    WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT): nothing else watches them, so when one dies the others
    are on their own."""
    port = str(free_port())
    return [subprocess.Popen([sys.executable, "-m", "trainers.cli", *args], cwd=ROOT, stderr=subprocess.PIPE,
                             stdout=subprocess.DEVNULL, text=True,
                             env=child_env(RANK=str(r), LOCAL_RANK=str(r), WORLD_SIZE=str(world),
                                           LOCAL_WORLD_SIZE=str(world), MASTER_ADDR="127.0.0.1", MASTER_PORT=port))
            for r in range(world)]


def records(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def wait_for_progress(processes: list[subprocess.Popen], log: Path, stage: str, timeout: float = 120.0) -> None:
    """Wait until rank 0 has logged a progress record of `stage` (the job is past setup and working)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            pytest.fail("a process ended early: " + " | ".join(p.communicate()[1][-2000:] for p in processes))
        if any(r["kind"] == "progress" and r["stage"] == stage for r in records(log)):
            return
        time.sleep(0.1)
    for p in processes:
        p.kill()
    pytest.fail(f"no {stage} progress in {log} in time")


@contextlib.contextmanager
def one_thread():
    """Torch on one thread in this process, as in each rank (matrix products then add in the same order)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def student_weights(checkpoint: Path) -> dict[str, torch.Tensor]:
    return load_scene(checkpoint).student["weights"]


def largest_relative_difference(a: dict, b: dict) -> float:
    """The largest |a - b| over all tensors, relative to the largest |a| of each tensor."""
    assert a.keys() == b.keys()
    return max(float((a[k] - b[k]).abs().max() / a[k].abs().max().clamp_min(1e-12)) for k in a)
