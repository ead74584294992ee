"""Which passes each render mode asks for (no Qt), the legends, and the remembered view settings on disk."""

from __future__ import annotations

import json

import torch

from r2l_viewer.app.workers.render_worker import RayRenderer, RenderRequest, render_interruptible
from r2l_viewer.app.canvas.view_modes import (NO_DEPTH, NO_ERROR, NO_STUDENT_DEPTH, SPLIT_NEEDS_BOTH,
                                              SPLIT_NO_STUDENT_DEPTH, SPLIT_NOT_ERROR, Pass, SceneModels, legend_for,
                                              plan_view)
from r2l_viewer.app.view_settings import ViewSettings
from r2l_viewer.core.cameras import Intrinsics, spherical_pose
from r2l_viewer.core.models import GridConfig, GridTeacher, Student, StudentConfig
from r2l_viewer.core.render import gives_depth, render_image

BOTH = SceneModels("student (finetuned)", "teacher (grid)")


def test_colour_shows_the_student_and_split_puts_the_teacher_left():
    plan = plan_view("colour", True, BOTH)
    assert plan.main == Pass("student", "rgb", "student (finetuned)") and plan.notes == ()
    assert plan.left == Pass("teacher", "rgb", "teacher (grid)")
    assert plan_view("colour", False, BOTH).left is None
    teacher_only = plan_view("colour", True, SceneModels(None, "teacher (grid)"))
    assert teacher_only.main.source == "teacher" and teacher_only.left is None
    assert teacher_only.notes == (SPLIT_NEEDS_BOTH,)
    assert plan_view("depth", False, SceneModels(None, None)).main is None


def test_depth_comes_from_a_student_that_gives_it_else_from_the_teacher_and_says_so():
    with_depth = plan_view("depth", True, SceneModels("student", "teacher (grid)", student_depth=True))
    assert with_depth.main.key == ("student", "depth") and with_depth.left.key == ("teacher", "depth")
    without = plan_view("depth", True, BOTH)
    assert without.main.key == ("teacher", "depth") and without.left is None
    assert without.notes == (NO_STUDENT_DEPTH, SPLIT_NO_STUDENT_DEPTH)
    alone = plan_view("depth", False, SceneModels("student", None))
    assert alone.main.key == ("student", "rgb") and alone.notes == (NO_DEPTH,)


def test_error_needs_both_models_and_is_never_split():
    plan = plan_view("error", True, BOTH)
    assert plan.main.key == ("both", "error") and plan.main.uses_teacher and plan.left is None
    assert plan.notes == (SPLIT_NOT_ERROR,)
    alone = plan_view("error", False, SceneModels("student", None))
    assert alone.main.key == ("student", "rgb") and alone.notes == (NO_ERROR,)


def test_legends_name_their_scale():
    depth = legend_for(Pass("teacher", "depth", "t"), (2.0, 6.0), "object")
    assert (depth.colormap, depth.low_text, depth.high_text) == ("turbo", "near 2.00", "far 6.00")
    assert "NDC" in legend_for(Pass("teacher", "depth", "t"), (0.0, 1.0), "forward").title
    error = legend_for(Pass("both", "error", "e"), (2.0, 6.0), "object")
    assert error.colormap == "heat" and error.high == 0.25
    assert legend_for(Pass("student", "rgb", "s"), (2.0, 6.0), "object") is None
    assert "contracted" in legend_for(Pass("student", "depth", "s"), (0.0, 8.0), "unbounded").title


def test_view_settings_round_trip_and_survive_a_damaged_file(tmp_path):
    path = tmp_path / "config" / "view.json"
    assert ViewSettings.load(path) == ViewSettings()
    ViewSettings("depth", True, 0.3).save(path)
    assert ViewSettings.load(path) == ViewSettings("depth", True, 0.3)
    path.write_text(json.dumps({"mode": "sideways", "split": 1, "divider": 7, "unknown": 1}))
    assert ViewSettings.load(path) == ViewSettings("colour", True, 0.98)
    path.write_text("{not json")
    assert ViewSettings.load(path) == ViewSettings()


def test_depth_renders_through_the_model_and_only_where_the_model_gives_it():
    torch.manual_seed(0)
    teacher = GridTeacher(GridConfig(resolution=8, features=2, mlp_width=8)).eval()
    student = Student(StudentConfig(points_per_ray=4, frequencies=3, width=16, blocks=2)).eval()
    assert gives_depth(teacher) and not gives_depth(student)
    intrinsics, pose = Intrinsics.from_focal(12, 10, 15.0), spherical_pose(10.0, -20.0, 4.0)
    depth = render_interruptible(RayRenderer(teacher), pose, intrinsics, chunk=32, output="depth")
    assert torch.allclose(depth, render_image(teacher, pose, intrinsics).depth, atol=1e-5)
    request = RenderRequest(pose, intrinsics, main=Pass("student", "rgb", "s"), left=Pass("teacher", "rgb", "t"))
    assert [role for role, _, _ in request.passes()] == ["main", "left"]
