"""`r2l-eval` and the evaluation job: the JSON it prints, --limit, --split, --save, progress, stop, FLOPs."""

import json

import imageio.v3 as iio
import pytest
import torch

from r2l_viewer.core.cameras import Intrinsics, spherical_pose
from r2l_viewer.core.checkpoint import load_scene
from trainers.configs import EvalConfig
from trainers.cli.eval import main
from r2l_viewer.core.metrics import FLOP_RAYS, view_flops_per_ray
from trainers.jobs.evaluate import Evaluate
from trainers.events import PROGRESS, STOPPED
from trainers.training.responsive import linear_flops_per_ray

from trainers.jobs.evaluate import CONTACT_SHEET
from tests.trainers.conftest import DEMO_DOWNSCALE, context

MODEL_KEYS = {"psnr", "ssim", "ms_per_frame", "flops_per_ray", "resolution", "images"}


def test_r2l_eval_prints_both_models_and_saves_four_pngs_per_view(student_scene, tmp_path, capsys):
    folder, _ = student_scene
    save = tmp_path / "eval"
    code = main([str(folder / "scene.ckpt"), "--data", "demo", "--downscale", str(DEMO_DOWNSCALE), "--split", "val",
                 "--limit", "2", "--warmup", "0", "--save", str(save), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    result = json.loads(out)
    assert result["split"] == "val" and result["saved_to"] == str(save)
    for role in ("teacher", "student"):
        assert MODEL_KEYS <= set(result[role]), role
        assert result[role]["images"] == 2 and result[role]["resolution"] == [33, 33]
        assert result[role]["flops_per_ray"] > 0 and 0 < result[role]["ssim"] <= 1
    assert result["student"]["stage"] == "finetuned"
    assert set(result["student_vs_teacher"]) == {"psnr", "psnr_gap", "speedup", "flops_ratio"}
    assert "evaluate" in err and "4/4" in err  # the progress bar, on stderr
    sheet = iio.imread(save / CONTACT_SHEET)  # two rows (the views) of real | teacher | student, 2-pixel gaps
    assert sheet.shape == (2 * 33 + 2, 3 * 33 + 4, 3)
    truth = iio.imread(next(save.glob("*_truth.png")))
    assert (sheet[:33, :33] == truth).all() or (sheet[35:, :33] == truth).all()
    views = [p for p in save.iterdir() if p.name != CONTACT_SHEET]
    names = {p.name.rsplit("_", 1)[0] for p in views}
    assert len(names) == 2 and sorted(p.name for p in views) == sorted(
        f"{n}_{kind}.png" for n in names for kind in ("teacher", "student", "truth", "error"))


def test_r2l_eval_table_names_what_the_student_teacher_figure_is(student_scene, capsys):
    folder, _ = student_scene
    assert main([str(folder / "scene.ckpt"), "--limit", "1", "--warmup", "0", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "student's renders against the teacher's: PSNR" in out and "dB apart" not in out


def test_r2l_eval_bad_input_is_one_line(tmp_path, capsys):
    assert main([str(tmp_path / "none.ckpt"), "--data", "demo"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("r2l-eval: error:") and "no such scene checkpoint" in err[0]
    with pytest.raises(SystemExit):
        main([str(tmp_path / "none.ckpt"), "--limit", "-1"])


def test_the_evaluation_job_reports_each_view_and_stops(student_scene):
    folder, _ = student_scene
    ctx = context(folder)
    events = list(Evaluate(EvalConfig(split="val", limit=3, warmup=0), ctx).run())
    progress = [e for e in events if e.kind == PROGRESS]
    assert [e.step for e in progress] == [1, 2, 3, 4, 5, 6] and all(e.total == 6 for e in progress)
    assert progress[0].preview is not None and max(progress[0].preview.shape[:2]) <= 128
    ctx = context(folder)
    seen = []
    for event in Evaluate(EvalConfig(split="val", limit=3, warmup=0), ctx).run():
        seen.append(event)
        if event.kind == PROGRESS and event.step == 2:
            ctx.stop.set()
    assert seen[-1].kind == STOPPED and seen[-1].step == 2


def test_flops_are_counted_on_a_few_rays_of_the_view(student_scene, monkeypatch):
    folder, _ = student_scene
    scene = load_scene(folder / "scene.ckpt")
    student = scene.build_student("cpu")
    intrinsics = Intrinsics.from_focal(400, 400, 500.0)  # 160,000 rays: far more than are counted
    calls = []
    real = type(student).forward
    monkeypatch.setattr(type(student), "forward", lambda m, o, d, *a, **k: calls.append(len(o)) or real(m, o, d, *a, **k))
    flops = view_flops_per_ray(student, spherical_pose(30, 30, 4.0), intrinsics)
    assert calls == [FLOP_RAYS] and FLOP_RAYS <= 4096
    assert flops == pytest.approx(linear_flops_per_ray(student), rel=1e-6)
