"""A scene whose student is a tiny grid-encoded one (the demo's teacher kept), for the app and r2l-eval tests."""

from __future__ import annotations

import torch

from r2l_viewer.core.checkpoint import load_scene, save_scene
from r2l_viewer.core.models import Student, StudentConfig
from trainers.jobs.distill import student_config_for
from trainers.storage.scene_io import model_entry

TINY_GRID_STUDENT = StudentConfig(points_per_ray=4, encoding="grid", grid_planes=(8, 16), grid_channels=2, width=16,
                                  blocks=1)
TINY_GRID_TEXT = "4 points, grid planes 8/16 x 2 ch"  # how the Info panel and r2l-eval describe its encoding


def with_grid_student(source, path, seed: int = 0):
    """A copy of the scene at `source` with an (untrained) TINY_GRID_STUDENT fitted to the scene, written to `path`."""
    scene = load_scene(source)
    torch.manual_seed(seed)
    student = Student(student_config_for(TINY_GRID_STUDENT, scene.meta, normalize=True))
    scene.student = model_entry(student, stage="distilled", step=0)
    save_scene(path, scene)
    return path
