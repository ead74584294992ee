"""Shared fixtures: where the real scenes are (skipping with a reason when absent) and small loaded datasets."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("R2L_DATA", ROOT.parent / "shared" / "data"))
LEGO = SHARED_DATA / "nerf_synthetic" / "lego"
FERN = SHARED_DATA / "nerf_llff_data" / "fern"
CAPTURES = SHARED_DATA / "captures"


def require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"real data not found at {path} (set R2L_DATA to the folder holding nerf_synthetic/)")
    return path


@pytest.fixture(scope="session")
def lego_dir() -> Path:
    return require(LEGO)


@pytest.fixture(scope="session")
def fern_dir() -> Path:
    return require(FERN)


@pytest.fixture(scope="session")
def captures_dir() -> Path:
    """The real phone captures: fruit (360 degrees, unbounded) and forward_c (forward-facing)."""
    return require(CAPTURES)


@pytest.fixture(scope="session")
def lego_small(lego_dir):
    """lego at 100x100, train and val splits."""
    from r2l_viewer.core.datasets import load_dataset

    return load_dataset(lego_dir, downscale=4, splits=("train", "val"))


@pytest.fixture(scope="session")
def demo_tiny():
    """The procedural demo scene at 32x32 (downscale 12.5 of 400 rounds to 32)."""
    from r2l_viewer.core.datasets import load_demo

    return load_demo(downscale=12.5)


@pytest.fixture
def small_disk(tmp_path) -> Path:
    """A real 512 KB disk (a tmpfs) to fill up; skipped where mounting one is not allowed (not root)."""
    folder = tmp_path / "small-disk"
    folder.mkdir()
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(folder)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()})")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], capture_output=True)


@pytest.fixture(scope="module")
def saved_small_scene(tmp_path_factory) -> Path:
    """A small scene checkpoint (demo metadata, tiny untrained teacher and student; tests/damaged_scenes.py)."""
    from tests.damaged_scenes import small_scene

    return small_scene(tmp_path_factory.mktemp("saved") / "scene.ckpt")


@pytest.fixture
def damageable_scene(saved_small_scene, tmp_path) -> Path:
    """A fresh copy of that checkpoint for one test to damage."""
    return Path(shutil.copyfile(saved_small_scene, tmp_path / "scene.ckpt"))
