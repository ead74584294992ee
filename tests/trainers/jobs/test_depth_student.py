"""A student with depth on the demo scene: it learns the teacher's depth from the pseudo data, finetuning keeps the
teacher's depth as a target, and r2l-eval reports and saves the student's depth against the teacher's."""

import dataclasses
import json

import imageio.v3 as iio
import numpy as np
import pytest
import torch

from r2l_viewer.core.cameras import Intrinsics
from r2l_viewer.core.checkpoint import load_scene
from r2l_viewer.core.render import render_image
from trainers.jobs import distill as distill_job
from trainers.cli.eval import main as eval_main
from trainers.events import LOG
from trainers.jobs.finetune import depth_maps
from trainers.training.online_views import OnlineViews
from trainers.training.views import SplitViews

from tests.trainers.conftest import DEMO_DOWNSCALE, context, run_to_end, scene_and_preset


def with_depth(preset, weight: float):
    preset.distill = dataclasses.replace(preset.distill, depth_weight=weight,
                                         student=dataclasses.replace(preset.distill.student, depth=True))
    return preset


def depth_errors(folder) -> tuple[float, float]:
    """Mean absolute depth error on the validation views: the student's against the teacher's, and that of the
    best constant depth map (the teacher's median depth of each view: the L1-optimal guess that knows no shape)."""
    scene, ctx = load_scene(folder / "scene.ckpt"), context(folder)
    teacher, student = scene.build_teacher(), scene.build_student()
    val = ctx.dataset(("train", "val")).split("val")
    student_err, constant_err = [], []
    for i in range(len(val)):
        target = render_image(teacher, val.poses[i], val.intrinsics_of(i)).depth
        student_err.append(float((render_image(student, val.poses[i], val.intrinsics_of(i)).depth - target).abs().mean()))
        constant_err.append(float((target.median() - target).abs().mean()))
    return sum(student_err) / len(student_err), sum(constant_err) / len(constant_err)


@pytest.mark.parametrize("weight, learns", [(0.1, True), (0.0, False)], ids=["depth-loss", "no-depth-loss"])
def test_a_depth_student_learns_the_teachers_depth_on_the_demo_scene(taught_scene, tmp_path, weight, learns):
    """Bound: under half the error of the best constant depth map. The demo views are mostly empty background (the
    teacher puts it at far), so a student that knew only "background" would score that constant's error; beating it
    by 2x needs the object's shape. Measured (160 steps, 33x33): 0.19 vs 0.63 scene units; without the depth loss
    the untrained depth output is off by 2.3, which this test shows fails the bound."""
    folder, preset = scene_and_preset(taught_scene, tmp_path)
    events = run_to_end("distill", with_depth(preset, weight), context(folder))
    student_error, constant_error = depth_errors(folder)
    assert constant_error > 0.1  # the views have shape to learn
    assert (student_error < 0.5 * constant_error) is learns, (student_error, constant_error)
    # reported while it trains, on its validation views (some of those measured here)
    assert events[-1].metrics["depth_mae"] == pytest.approx(student_error, rel=0.25)
    if learns:
        assert "depth" in events[-1].message


def test_finetuning_learns_the_teachers_depth_of_the_training_views(taught_scene, tmp_path):
    folder, preset = scene_and_preset(taught_scene, tmp_path)
    run_to_end("distill", with_depth(preset, 0.1), context(folder))
    events = run_to_end("finetune", preset, context(folder))
    assert any(e.kind == LOG and "depth targets of" in e.message and "with the teacher" in e.message for e in events)
    scene = load_scene(folder / "scene.ckpt")
    assert scene.student["stage"] == "finetuned" and scene.student["config"]["depth"] is True
    split = context(folder).dataset(("train",)).split("train")
    train, teacher = SplitViews(split), scene.build_teacher()
    maps = depth_maps(teacher, train, torch.device("cpu"), None)
    assert maps.shape == (len(train), train.height, train.width) and maps.dtype == torch.float16
    for i in (0, len(train) - 1):  # each map is the teacher's render of that training view, pixel for pixel
        expected = render_image(teacher, split.poses[i], split.intrinsics_of(i)).depth
        assert torch.allclose(maps[i].float(), expected, atol=4e-3)
    train.depth_maps = maps
    batch = train.sample(500, torch.Generator().manual_seed(0), depth=True)
    assert batch.depth.shape == (500,) and float(batch.depth.min()) >= 0.0


def test_r2l_eval_reports_and_saves_the_students_depth(taught_scene, tmp_path, capsys):
    folder, preset = scene_and_preset(taught_scene, tmp_path)
    run_to_end("distill", with_depth(preset, 0.1), context(folder))
    save = tmp_path / "eval"
    args = [str(folder / "scene.ckpt"), "--data", "demo", "--downscale", str(DEMO_DOWNSCALE), "--split", "val",
            "--limit", "2", "--warmup", "0", "--quiet"]
    assert eval_main(args + ["--save", str(save), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    depth = result["depth"]
    assert result["student"]["depth"] is True and depth["units"] == "scene units"
    assert (depth["near"], depth["far"]) == (2.0, 6.0) and depth["pixels"] == 2 * 33 * 33
    student_error, _ = depth_errors(folder)  # on all validation views; these are the first two of them
    assert 0.0 < depth["mae"] < 3 * student_error and 0.0 < depth["within_1pct"] < 1.0
    assert 0.0 < depth["seen_share"] < 1.0 and depth["seen_mae"] > depth["mae"]  # background is the easy part
    assert depth["seen_within_1pct"] < depth["within_1pct"]
    name = sorted(save.glob("*_student_depth16.png"))[0].name.removesuffix("_student_depth16.png")
    for kind in ("student_depth", "teacher_depth", "student_depth16", "teacher_depth16", "depth_error"):
        assert (save / f"{name}_{kind}.png").is_file(), kind
    grey = iio.imread(save / f"{name}_student_depth16.png")
    assert grey.dtype == np.uint16 and grey.shape == (33, 33)
    scene, split = load_scene(folder / "scene.ckpt"), context(folder).dataset(("val",)).split("val")
    index = split.names.index(name)
    rendered = render_image(scene.build_student(), split.poses[index], split.intrinsics_of(index)).depth
    assert np.abs(2.0 + grey / 65535.0 * 4.0 - rendered.numpy()).max() < 1e-4  # 16 bits from near to far
    colour = iio.imread(save / f"{name}_student_depth.png")
    assert colour.shape == (33, 33, 3) and colour.dtype == np.uint8

    assert eval_main(args) == 0
    table = capsys.readouterr().out
    assert "student's depth against the teacher's: mean absolute error" in table and "within 1% of near..far" in table
    assert "where the teacher sees something" in table


def test_r2l_eval_says_nothing_of_depth_for_a_student_without_it(student_scene, capsys):
    folder, _ = student_scene
    assert eval_main([str(folder / "scene.ckpt"), "--limit", "1", "--warmup", "0", "--quiet", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["student"]["depth"] is False and "depth" not in result


def test_online_distillation_takes_depth_from_the_views_it_renders(taught_scene, tmp_path, monkeypatch):
    made = []

    class RecordedViews(OnlineViews):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(distill_job, "OnlineViews", RecordedViews)
    folder, preset = scene_and_preset(taught_scene, tmp_path)
    preset = with_depth(preset, 0.1)
    preset.distill.online, preset.distill.online_buffer, preset.distill.steps = True, 3, 40
    events = run_to_end("distill", preset, context(folder))
    teacher, views = load_scene(folder / "scene.ckpt").build_teacher(), made[0]
    base = context(folder).dataset(("train",)).meta.intrinsics
    slot = (views.next_index - 1) % views.capacity  # the newest view: the teacher's depth of its camera
    camera = Intrinsics.from_focal(base.height, base.width, float(views.focals[slot]))
    expected = render_image(teacher, views.poses[slot], camera).depth
    assert torch.allclose(views.depth[slot].float(), expected, atol=4e-3)
    assert 0.0 < events[-1].metrics["depth_mae"] < 4.0
