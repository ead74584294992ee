"""A tiny pipeline on the demo scene at 33x33 (small networks), shared by the pipeline tests."""

from __future__ import annotations

import copy
import dataclasses
import shutil

import pytest
import torch

from r2l_viewer.core.checkpoint import load_scene, save_scene
from r2l_viewer.core.models import GridConfig, Student, StudentConfig
from trainers.jobs.distill import student_config_for
from trainers.events import DONE, STOPPED
from trainers.jobs.pipeline import run_job
from trainers.presets import get_preset
from trainers.storage.scene_io import model_entry
from trainers.storage.workspace import RunContext, Workspace

DEMO_DOWNSCALE = 12  # 400 / 12 -> 33 x 33 pixels


def tiny_preset():
    """Settings small enough for a test: seconds per job on a CPU."""
    preset = get_preset("tiny")
    preset.teacher = dataclasses.replace(
        preset.teacher, steps=240, batch_rays=1024, lr=0.3, start_resolution=32, upsample_steps=(100,),
        grid=GridConfig(resolution=48, features=6, mlp_width=32), val_every=0, val_views=2, occupancy_every=20,
    )
    preset.pseudo = dataclasses.replace(preset.pseudo, images=12, shard_images=5)
    preset.distill = dataclasses.replace(
        preset.distill, student=StudentConfig(points_per_ray=8, frequencies=4, width=48, blocks=2), steps=160,
        batch_rays=1024, hard_rays=128, lr=5e-3, warmup_steps=10, warmup_lr=5e-4, decay_steps=400, val_every=80,
        val_views=2, save_every=50,
    )
    preset.finetune = dataclasses.replace(preset.finetune, steps=30, batch_rays=1024, val_every=10, val_views=2)
    return preset


LOADED_DATASETS: dict = {}  # datasets the tests' run contexts share: the demo scene renders its views when loaded


def context(folder, **kwargs) -> RunContext:
    return RunContext(Workspace(folder / "scene.ckpt"), data=kwargs.pop("data", "demo"),
                      downscale=kwargs.pop("downscale", DEMO_DOWNSCALE), device="cpu", _datasets=LOADED_DATASETS,
                      **kwargs)


def run_to_end(job: str, preset, ctx) -> list:
    events = list(run_job(job, preset, ctx))
    assert events[-1].kind in (DONE, STOPPED), events[-1]
    return events


@pytest.fixture(scope="session")
def taught_scene(tmp_path_factory):
    """A scene folder whose checkpoint has a trained teacher and whose pseudo data is rendered."""
    folder = tmp_path_factory.mktemp("taught")
    preset = tiny_preset()
    events = run_to_end("teacher", preset, context(folder)) + run_to_end("pseudo", preset, context(folder))
    return folder, preset, events


def copy_scene(source, destination):
    """A writable copy of a scene folder (checkpoint, pseudo data) for a test to change."""
    shutil.copytree(source, destination)
    return destination


def scene_and_preset(fixture, tmp_path):
    """A writable copy of a session scene fixture's folder and a private copy of its preset (tests may change both)."""
    return copy_scene(fixture[0], tmp_path / "s"), copy.deepcopy(fixture[1])


@pytest.fixture(scope="session")
def student_scene(taught_scene, tmp_path_factory):
    """The taught scene plus a finished (finetuned) student in its checkpoint: a scene with a result to protect."""
    folder, preset, _ = taught_scene
    destination = copy_scene(folder, tmp_path_factory.mktemp("with-student") / "s")
    scene = load_scene(destination / "scene.ckpt")
    config = student_config_for(preset.distill.student, scene.meta, normalize=True)
    torch.manual_seed(0)
    scene.student = model_entry(Student(config), stage="finetuned", step=30, complete=True,
                                teacher_id=scene.teacher["id"], val_psnr=21.5)
    save_scene(destination / "scene.ckpt", scene)
    return destination, preset
