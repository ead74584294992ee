"""A grid-encoded student on a forward-facing LLFF scene (fern): its feature planes cover the NDC box, and its depth
is the teacher's NDC ray parameter."""

import json
import math

import numpy as np

from r2l_viewer.core.checkpoint import load_scene
from trainers.cli.train import main
from trainers.cli.eval import main as eval_main

TINY_RUN = [
    "--downscale", "32", "--quiet",
    "--teacher.steps", "40", "--teacher.start_resolution", "16", "--teacher.upsample_steps", "20",
    "--teacher.grid.resolution", "24", "--teacher.batch_rays", "512", "--teacher.val_views", "1",
    "--pseudo.images", "4",
    "--distill.student.encoding", "grid", "--distill.student.points_per_ray", "6", "--distill.student.grid_planes",
    "8,16", "--distill.student.grid_channels", "2", "--distill.student.width", "16", "--distill.student.blocks", "1",
    "--distill.steps", "30", "--distill.batch_rays", "256", "--distill.hard_rays", "32", "--distill.val_views", "1",
    "--finetune.steps", "10", "--finetune.batch_rays", "256", "--finetune.val_every", "5", "--finetune.val_views", "1",
    "--distill.student.depth", "true",
]


def test_a_grid_student_distils_finetunes_and_evaluates_on_fern(fern_dir, tmp_path, capsys):
    out = tmp_path / "fern" / "scene.ckpt"
    assert main(["all", "--data", str(fern_dir), "--out", str(out), *TINY_RUN]) == 0, capsys.readouterr().err
    scene = load_scene(out)
    config = scene.build_student().config
    assert config.encoding == "grid" and config.ndc is not None and scene.student["stage"] == "finetuned"
    meta = scene.meta  # the teacher's occupied box, in NDC space, within the scene's
    for low, high, lowest, highest in zip(config.box_min, config.box_max, meta.box_min, meta.box_max):
        assert lowest - 1e-6 <= low < high <= highest + 1e-6
    records = [json.loads(line) for line in (out.parent / "scene.metrics.jsonl").read_text().splitlines()]
    distill = [r for r in records if r["stage"] == "distill"]
    first = next(r["psnr"] for r in distill if r["kind"] == "progress")
    assert distill[-1]["metrics"]["teacher_psnr"] > first + 3.0  # it learned its teacher's NDC views
    capsys.readouterr()
    assert eval_main([str(out), "--json", "--quiet", "--limit", "2"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["student"]["encoding"] == "grid" and math.isfinite(result["student"]["psnr"])
    assert result["student_vs_teacher"]["psnr"] > first + 3.0  # and r2l-eval renders it the same way
    # depth in NDC scenes: the ray parameter in NDC space, 0 to 1, for the teacher (pseudo data) and the student
    pseudo = np.load(out.parent / "scene.pseudo" / "shard_00000" / "depth.npy")
    assert 0.0 <= pseudo.min() and pseudo.max() <= 1.0
    depth = result["depth"]
    assert (depth["near"], depth["far"], depth["units"]) == (0.0, 1.0, "NDC t (0 to 1)")
    assert 0.0 < depth["mae"] < 1.0 and 0.0 <= depth["within_1pct"] <= 1.0
