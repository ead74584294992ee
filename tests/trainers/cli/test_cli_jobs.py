"""`r2l-train` job commands: a real short run, and one clear line for every kind of bad input."""

import json

import pytest
import torch

from r2l_viewer.core.checkpoint import SceneCheckpoint, save_scene
from r2l_viewer.core.datasets import load_demo
from trainers.cli.train import main


def _error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("r2l-train: error:")
    return err[0]


TINY_TEACHER = ["--teacher.steps", "30", "--teacher.start_resolution", "16", "--teacher.upsample_steps", "15",
                "--teacher.grid.resolution", "24", "--teacher.batch_rays", "256", "--teacher.val_views", "1"]


def test_teacher_command_writes_the_checkpoint_and_metrics_log(tmp_path, capsys):
    out = tmp_path / "run" / "scene.ckpt"
    code = main(["teacher", "--data", "demo", "--downscale", "16", "--out", str(out), "--quiet", *TINY_TEACHER])
    assert code == 0, capsys.readouterr().err
    assert "saved" in capsys.readouterr().err
    assert out.exists()
    records = [json.loads(line) for line in (tmp_path / "run" / "scene.metrics.jsonl").read_text().splitlines()]
    assert records[-1]["stage"] == "teacher" and records[-1]["kind"] == "done"
    # a second run would replace an expensive teacher: refused without --force
    assert main(["teacher", "--data", "demo", "--downscale", "16", "--out", str(out), "--quiet", *TINY_TEACHER]) == 2
    assert "already has a teacher" in _error_line(capsys)


def test_missing_data_folder(tmp_path, capsys):
    assert main(["teacher", "--data", str(tmp_path / "nope"), "--out", str(tmp_path / "s.ckpt")]) == 2
    assert "no such folder" in _error_line(capsys)
    assert not (tmp_path / "s.ckpt").exists()


def test_wrong_data_folder(tmp_path, capsys):
    assert main(["all", "--data", str(tmp_path), "--out", str(tmp_path / "s.ckpt")]) == 2
    assert "not a scene folder" in _error_line(capsys)


def test_distilling_without_a_teacher(tmp_path, capsys):
    assert main(["distill", "--out", str(tmp_path / "none.ckpt"), "--data", "demo"]) == 2
    assert "no such scene checkpoint" in _error_line(capsys)
    path = tmp_path / "empty.ckpt"
    save_scene(path, SceneCheckpoint(load_demo(40, splits=("val",)).meta))
    assert main(["distill", "--out", str(path)]) == 2
    assert "has no teacher" in _error_line(capsys)


def test_finetuning_without_a_student(tmp_path, capsys):
    path = tmp_path / "empty.ckpt"
    save_scene(path, SceneCheckpoint(load_demo(40, splits=("val",)).meta))
    assert main(["finetune", "--out", str(path)]) == 2
    assert "has no student" in _error_line(capsys)


@pytest.mark.parametrize("flag,value,expected", [
    ("--distill.lr", "-1", "below its minimum"),
    ("--teacher.kind", "voxels", "is not one of grid, nerf"),
    ("--pseudo.images", "0", "below its minimum"),
])
def test_options_out_of_range(tmp_path, capsys, flag, value, expected):
    assert main(["all", "--data", "demo", "--out", str(tmp_path / "s.ckpt"), flag, value]) == 2
    assert expected in _error_line(capsys)


def test_malformed_option_value_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["distill", "--out", str(tmp_path / "s.ckpt"), "--distill.online", "maybe"])
    assert e.value.code == 2
    assert "expected true or false" in capsys.readouterr().err


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_asked_for_but_absent(tmp_path, capsys):
    assert main(["teacher", "--data", "demo", "--out", str(tmp_path / "s.ckpt"), "--device", "cuda"]) == 2
    assert "no CUDA GPU" in _error_line(capsys)
