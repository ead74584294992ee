"""A small scene checkpoint (demo metadata, tiny teacher and student) and ways to damage it on disk: one byte flipped
in a part, NaN written into a tensor; for the tests that check every command refuses such files alike."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch

from r2l_viewer.core.checkpoint import SceneCheckpoint, load_scene, save_scene
from r2l_viewer.core.datasets import load_demo
from r2l_viewer.core.models import GridConfig, GridTeacher, Student, StudentConfig
from trainers.jobs.distill import student_config_for
from trainers.storage.scene_io import model_entry

SCENE_NAME = "checksum-test-scene"  # a string found once in the file: flipping one of its bytes damages the metadata
TINY_STUDENT = StudentConfig(points_per_ray=4, encoding="grid", grid_planes=(8, 16), grid_channels=2, width=16,
                             blocks=1)


def small_scene(path: Path, seed: int = 0) -> Path:
    """A checkpoint of the demo scene (at 32x32) with a tiny grid teacher and a tiny grid student, both untrained."""
    dataset = load_demo(downscale=12.5, splits=("train", "test"))
    meta = dataclasses.replace(dataset.meta, name=SCENE_NAME)
    torch.manual_seed(seed)
    teacher = GridTeacher(GridConfig(resolution=8, features=3, mlp_width=8, near=meta.near, far=meta.far))
    student = Student(student_config_for(TINY_STUDENT, meta, normalize=True))
    scene = SceneCheckpoint(meta, {name: split.poses for name, split in dataset.splits.items()},
                            model_entry(teacher, step=10), model_entry(student, stage="distilled", step=5),
                            [{"stage": "distill", "step": 5, "psnr": 12.5}])
    save_scene(path, scene)
    return path


def flip_byte_of(path: Path, data: bytes) -> None:
    """Flip the lowest bit of the middle byte of `data`, which must occur exactly once in the file at `path`."""
    content = bytearray(path.read_bytes())
    at = content.find(data)
    assert at >= 0 and content.find(data, at + 1) < 0, "the bytes to damage must occur once in the file"
    content[at + len(data) // 2] ^= 0x01
    path.write_bytes(bytes(content))


def tensor_bytes(path: Path, role: str, name: str) -> bytes:
    """The bytes of one of a saved model's weight tensors as torch stores them (uncompressed, in the zip)."""
    return getattr(load_scene(path), role)["weights"][name].contiguous().numpy().tobytes()


def damage_part(path: Path, part: str) -> str:
    """Flip one byte inside a part of the checkpoint at `path`: 'teacher' or 'student' (a weight tensor),
    'metadata' (the scene's name), 'cameras' (a training pose); the words the damage message names it by."""
    if part in ("teacher", "student"):
        name = "rgbnet.0.weight" if part == "teacher" else "grids.planes.1"
        flip_byte_of(path, tensor_bytes(path, part, name))
        return f"the {part}'s weights ({name})"
    if part == "metadata":
        flip_byte_of(path, SCENE_NAME.encode())
        return "the scene metadata"
    if part == "cameras":
        flip_byte_of(path, load_scene(path).cameras["train"].contiguous().numpy().tobytes())
        return "the dataset camera poses (train)"
    raise ValueError(part)


def with_nan(path: Path, role: str = "student", name: str = "grids.planes.0") -> Path:
    """Write NaN into one value of a model's tensor and save the scene again (valid checksums: as a training run
    that diverged would)."""
    scene = load_scene(path)
    getattr(scene, role)["weights"][name].view(-1)[3] = float("nan")
    save_scene(path, scene)
    return path


def with_overflowing_student(path: Path) -> Path:
    """Finite student weights whose output is NaN: two features pushed to 2000 meet +3e38 and -3e38 in the last
    layer, whose sum is then inf - inf (as an fp32 overflow in a diverging run gives)."""
    scene = load_scene(path)
    weights, last = scene.student["weights"], f"body.{scene.student['config']['blocks'] - 1}.fc2"
    weights[f"{last}.weight"][:2] = 0.0
    weights[f"{last}.bias"][:2] = 1000.0
    weights["tail.weight"][:, 0], weights["tail.weight"][:, 1] = 3e38, -3e38
    save_scene(path, scene)
    return path
