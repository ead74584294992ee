"""The learning-curve benchmark runs real distill, finetune and eval commands on a taught demo scene."""

from __future__ import annotations

import json
import shutil

from trainers.bench import learning_curve

SMALL = "--distill.batch_rays 256 --distill.hard_rays 0 --distill.val_every 0 --distill.val_views 1"


def test_each_budget_is_its_own_run_from_the_same_teacher_and_prints_a_row(taught_scene, tmp_path, capsys):
    source = taught_scene[0]
    shutil.copy2(source / "scene.ckpt", tmp_path / "scene.ckpt")
    shutil.copytree(source / "scene.pseudo", tmp_path / "scene.pseudo")
    code = learning_curve.main([str(tmp_path / "scene.ckpt"), "--minutes", "0.2", "--probe-steps", "4",
                                "--distill-args", SMALL, "--finetune-args", "--finetune.steps 3 --finetune.batch_rays 256"])
    out, err = capsys.readouterr()
    assert code == 0
    rows = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert [row["minutes"] for row in rows] == [0.2] and rows[0]["steps"] >= 1
    assert rows[0]["distilled_psnr"] > 5 and rows[0]["finetuned_psnr"] > 5 and rows[0]["teacher_psnr"] > 10
    assert out.count(" dB") >= 3 and "ms per step" in out and "probe" in out
    assert (tmp_path / "scene.curve" / "0.2min" / "scene.ckpt").exists()


def test_a_budget_buys_the_steps_that_fit_after_the_start_up():
    assert learning_curve.steps_for(10, 0.5, 60) == 1080
    assert learning_curve.steps_for(20, 0.5, 60) > 2 * learning_curve.steps_for(10, 0.5, 60)
    assert learning_curve.steps_for(0.5, 0.5, 60) == 1  # a budget shorter than the start-up still runs a step


def test_a_scene_without_pseudo_views_is_one_line(taught_scene, tmp_path, capsys):
    shutil.copy2(taught_scene[0] / "scene.ckpt", tmp_path / "scene.ckpt")
    assert learning_curve.main([str(tmp_path / "scene.ckpt")]) == 2
    assert "no pseudo views beside it" in capsys.readouterr().err


def test_steps_are_timed_between_the_first_and_last_progress_records(tmp_path):
    log = tmp_path / "scene.metrics.jsonl"
    records = [{"time": "2026-12-06T21:00:00", "stage": "teacher", "kind": "progress", "step": 90},
               {"time": "2026-12-06T21:00:05", "stage": "distill", "kind": "log", "step": 0},
               {"time": "2026-12-06T21:00:10", "stage": "distill", "kind": "progress", "step": 1},
               {"time": "2026-12-06T21:00:40", "stage": "distill", "kind": "progress", "step": 301}]
    log.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    assert learning_curve.step_times(log) == (300, 30.0)
    log.write_text("\n".join(json.dumps(r) for r in records[:3]) + "\n")
    assert learning_curve.step_times(log) is None  # one progress record: no step time apart from the start-up


def test_a_rate_that_is_not_two_numbers_is_one_line(taught_scene, tmp_path, capsys):
    shutil.copy2(taught_scene[0] / "scene.ckpt", tmp_path / "scene.ckpt")
    assert learning_curve.main([str(tmp_path / "scene.ckpt"), "--rate", "fast"]) == 2
    assert "--rate fast: give seconds per step" in capsys.readouterr().err
