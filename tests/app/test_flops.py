"""One FLOPs-per-ray figure: the Info tab, r2l-eval and r2l-bench count a scene's models the same way, and say how."""

from __future__ import annotations

import pytest

from r2l_viewer.app.model_info import describe, scene_rows
from r2l_viewer.core.checkpoint import load_scene
from r2l_viewer.core.metrics import FLOPS_DEFINITION
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
