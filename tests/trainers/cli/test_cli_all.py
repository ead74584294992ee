"""`r2l-train all` through the command line on the tiny test settings, then `all --resume` skipping every stage."""

import dataclasses
import functools
import json

from r2l_viewer.core.checkpoint import load_scene
from r2l_viewer.core.models import GridConfig
from trainers.cli.train import main
from trainers.storage.workspace import RunContext

from tests.trainers.conftest import DEMO_DOWNSCALE, LOADED_DATASETS, tiny_preset


def quick_preset(name: str = "tiny"):
    """The test settings, shorter still: the whole pipeline in seconds."""
    preset = tiny_preset()
    preset.teacher = dataclasses.replace(preset.teacher, steps=20, batch_rays=512, start_resolution=16, upsample_steps=(),
                                         grid=GridConfig(resolution=16, features=4, mlp_width=16))
    preset.pseudo = dataclasses.replace(preset.pseudo, images=4, shard_images=2)
    preset.distill = dataclasses.replace(preset.distill, steps=10, val_every=5, save_every=5, val_views=1,
                                         batch_rays=256, hard_rays=32)
    preset.finetune = dataclasses.replace(preset.finetune, steps=6, val_every=3, val_views=1, batch_rays=256)
    return preset


def test_all_runs_every_stage_then_resume_skips_them(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("trainers.cli.train.get_preset", quick_preset)
    monkeypatch.setattr("trainers.cli.train.RunContext", functools.partial(RunContext, _datasets=LOADED_DATASETS))
    monkeypatch.setattr("trainers.storage.workspace.LOG_PROGRESS_SECONDS", 0.0)
    out = tmp_path / "run" / "scene.ckpt"
    args = ["all", "--data", "demo", "--downscale", str(DEMO_DOWNSCALE), "--out", str(out), "--quiet"]
    assert main(args) == 0, capsys.readouterr().err
    scene = load_scene(out)
    assert scene.teacher["complete"] and scene.student["stage"] == "finetuned" and scene.student["complete"]
    assert [h["stage"] for h in scene.history] == ["teacher", "distill", "finetune"]
    records = [json.loads(line) for line in (tmp_path / "run" / "scene.metrics.jsonl").read_text().splitlines()]
    done = [r["stage"] for r in records if r["kind"] == "done"]
    assert done == ["teacher", "pseudo", "distill", "finetune"]
    progress = [r for r in records if r["kind"] == "progress" and r["stage"] == "distill"]
    assert progress and all({"step", "loss", "psnr", "lr", "rays_per_s"} <= set(r) for r in progress[1:])
    assert any(r["kind"] == "saved" for r in records)
    capsys.readouterr()

    written = out.stat().st_mtime_ns
    assert main([a for a in args if a != "--quiet"] + ["--resume"]) == 0
    err = capsys.readouterr().err
    for stage in ("teacher", "pseudo", "distill", "finetune"):
        assert f"{stage}: already finished in scene.ckpt, skipped" in err
    assert out.stat().st_mtime_ns == written
