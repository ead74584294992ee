"""`r2l-train describe` and `r2l-train check-data`, run as a user runs them."""

import json
import subprocess
import sys

import pytest


def r2l_train(*args):
    return subprocess.run([sys.executable, "-m", "trainers.cli", *map(str, args)], capture_output=True, text=True)


def test_describe_paper_counts_the_built_models():
    result = r2l_train("describe", "--preset", "paper", "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["student"]["params"] == 5_917_187
    assert info["student"]["linear_layers"] == 88
    assert info["student"]["input_dim"] == 1008
    assert info["student"]["flops_per_ray"] == pytest.approx(11.79e6, rel=1e-3)
    assert info["teacher_nerf"]["flops_per_ray"] == pytest.approx(303.82e6, rel=1e-4)
    assert info["teacher_nerf"]["params"] > 1_000_000


def test_describe_tiny_has_a_smaller_student():
    """Smaller than the paper's (5.9 M parameters, 11.79 MFLOPs per ray): its feature planes hold most of its 1.2 M
    parameters (issue 17: 4 channels per plane), its MLP is a small fraction of the paper's cost."""
    info = json.loads(r2l_train("describe", "--preset", "tiny", "--json").stdout)
    assert info["student"]["params"] < 5_917_187 / 4 and info["teacher"]["kind"] == "grid"
    assert info["student"]["flops_per_ray"] < 11.79e6 / 10


@pytest.mark.parametrize("preset, depth", [("tiny", True), ("paper", False)])
def test_describe_says_whether_the_student_gives_depth(preset, depth):
    info = json.loads(r2l_train("describe", "--preset", preset, "--json").stdout)
    assert info["student"]["depth"] is depth
    text = r2l_train("describe", "--preset", preset).stdout
    assert f"  depth: {depth}\n" in text  # a yes/no, not counted as a number


def test_check_data_on_lego(lego_dir):
    result = r2l_train("check-data", lego_dir, "--downscale", "4", "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["format"] == "blender"
    assert info["images"] == {"train": 100, "val": 100, "test": 200}
    assert (info["height"], info["width"]) == (100, 100)
    assert info["focal"] == pytest.approx(138.89, abs=0.01)
    assert (info["near"], info["far"]) == (2.0, 6.0)


def test_check_data_on_fern(fern_dir):
    info = json.loads(r2l_train("check-data", fern_dir, "--json").stdout)
    assert info["format"] == "llff" and info["width"] == 504 and info["downscale"] == 8  # LLFF's usual 1/8
    assert info["images"] == {"train": 15, "val": 2, "test": 3}  # disjoint: every image in exactly one split


@pytest.mark.parametrize("make", ["missing", "empty", "file"])
def test_check_data_on_a_bad_folder_exits_nonzero_with_one_line(tmp_path, make):
    target = tmp_path / "scene"
    if make == "empty":
        target.mkdir()
    elif make == "file":
        target.write_text("x")
    result = r2l_train("check-data", target, "--json")
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("r2l-train: error:") and str(target) in lines[0]
