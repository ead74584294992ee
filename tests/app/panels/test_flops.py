"""One FLOPs-per-ray figure: the Info tab, r2l-eval and r2l-bench count a scene's models the same way, and say how."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

from r2l_viewer.app.panels.model_info import describe, scene_rows
from r2l_viewer.core.checkpoint import load_scene
from r2l_viewer.core.metrics import FLOPS_DEFINITION, scene_flops_per_ray
from r2l_viewer.core.rays import camera_rays
from trainers.configs import EvalConfig
from trainers.jobs.evaluate import Evaluate
from trainers.storage.workspace import RunContext, Workspace


class Shown:
    """The parts of a session the Info rows read."""

    def __init__(self, path):
        self.path, self.checkpoint = path, load_scene(path)
        self.meta = self.checkpoint.meta
        self.teacher, self.student = self.checkpoint.build_teacher(), self.checkpoint.build_student()


def test_the_info_tab_and_r2l_eval_give_the_same_flops(demo_checkpoint):
    shown = Shown(demo_checkpoint)
    info = {role: describe(getattr(shown, role), shown.checkpoint)["flops"] for role in ("teacher", "student")}
    ctx = RunContext(Workspace(demo_checkpoint), device="cpu")
    *_, done = Evaluate(EvalConfig(limit=1, warmup=0), ctx).run()
    for role in ("teacher", "student"):
        assert done.metrics[role]["flops_per_ray"] == pytest.approx(info[role], rel=1e-9), role
    assert done.metrics["student_vs_teacher"]["flops_ratio"] == pytest.approx(info["teacher"] / info["student"])
    rows = dict(scene_rows(shown, "CPU", describe(shown.teacher, shown.checkpoint),
                           describe(shown.student, shown.checkpoint)))
    assert rows["FLOPs"].startswith(FLOPS_DEFINITION)


class LinearCalls(TorchFunctionMode):
    """Multiply-adds of every linear map run while active, from the shapes it sees (rows x in x out): each
    nn.Linear, and a layer's weight applied in parts (the grid teacher's colour MLP applies its first layer's view
    columns once per ray)."""

    def __init__(self):
        super().__init__()
        self.multiply_adds = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func is F.linear:
            inputs, weight = args[0], args[1]
            self.multiply_adds += inputs.reshape(-1, weight.shape[1]).shape[0] * weight.shape[1] * weight.shape[0]
        return func(*args, **(kwargs or {}))


def linear_multiply_adds(model, origins, directions) -> float:
    """Multiply-adds of every linear map a model runs on some rays, per ray, counted from the shapes each sees
    (not torch's flop counter)."""
    with torch.inference_mode(), LinearCalls() as calls:
        model(origins, directions)
    return calls.multiply_adds / origins.shape[0]


def test_the_flops_per_ray_of_the_demo_are_the_multiply_adds_its_layers_do(demo_checkpoint):
    """The demo's student, written out: 32 points x 3 plane levels x 4 channels (the three planes' reads
    multiplied) = 384 inputs, a head 384 -> 128, 4 residual blocks of two 128 x 128 layers, a tail 128 -> 4 (colour
    and depth); 2 FLOPs per multiply-add; run only by the rays that cross its occupancy (the others show the
    background for nothing). Its teacher (a grid: its cost depends on what the rays meet) by the multiply-adds its
    linear maps do on 1,024 rays spread evenly over the image of its reference camera (the first test camera,
    else validation: the demo keeps train and val cameras)."""
    scene = load_scene(demo_checkpoint)
    student, teacher = scene.build_student(), scene.build_teacher()
    cfg = scene.student["config"]
    assert (cfg["points_per_ray"], len(cfg["grid_planes"]), cfg["grid_channels"], cfg["grid_combine"], cfg["width"],
            cfg["blocks"], cfg["depth"], cfg["occupancy_resolution"]) == (32, 3, 4, "product", 128, 4, True, 64)
    written_out = 2 * (384 * 128 + 4 * 2 * 128 * 128 + 128 * 4)
    assert "test" not in scene.cameras
    pose = scene.cameras["val"][0]
    origins, directions = (v.reshape(-1, 3) for v in camera_rays(pose, scene.meta.intrinsics))
    stride = origins.shape[0] // 1024
    origins, directions = origins[::stride][:1024], directions[::stride][:1024]
    crossing = 1.0 - float(student.placed_points(origins, directions)[1].float().mean())
    assert 0.2 < crossing < 1.0  # the demo's objects in the middle of the view, sky around them
    assert scene_flops_per_ray(student, scene) == pytest.approx(written_out * crossing, rel=1e-9)
    teacher_count = 2 * linear_multiply_adds(teacher, origins, directions)
    assert teacher_count > 10_000  # its rays meet the object (empty space costs the grid teacher nothing)
    assert scene_flops_per_ray(teacher, scene) == pytest.approx(teacher_count, rel=1e-6)
