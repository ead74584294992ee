"""What runs report and record: the metrics log (progress at a limited rate, logs, saves), the learning rate used,
small previews, resume checks on seed/data/downscale, exact online resume, and notes about incomplete pseudo data."""

import dataclasses
import json
import re
import time

import numpy as np
import pytest
import torch

from r2l_viewer.core.checkpoint import load_scene
from r2l_viewer.core.model_text import stage_text
from r2l_viewer.core.view_ranges import view_ranges
from trainers.training import online_views
from trainers.jobs.distill import Distill
from trainers.events import LOG, PROGRESS, STOPPED, Event, small_preview
from trainers.jobs.pipeline import run_job
from trainers.training.schedule import warmup_then_decay
from trainers.training.student_steps import describe_student
from trainers.errors import JobError
from trainers.storage.workspace import Workspace

from tests.trainers.conftest import context, run_to_end, scene_and_preset


def test_the_metrics_log_takes_progress_at_a_limited_rate_and_the_last_step(tmp_path, monkeypatch):
    log = Workspace(tmp_path / "s.ckpt")
    monkeypatch.setattr("trainers.storage.workspace.LOG_PROGRESS_SECONDS", 3600.0)
    for step in range(1, 11):
        log.record(Event("distill", PROGRESS, step, 10, loss=0.01, psnr=20.0, lr=1e-3, rays_per_s=5e4))
    log.record(Event("distill", LOG, 10, 10, message="note"))
    records = [json.loads(line) for line in log.metrics_log.read_text().splitlines()]
    assert [(r["kind"], r["step"]) for r in records] == [("progress", 1), ("progress", 10), ("log", 10)]
    assert {"loss", "psnr", "lr", "rays_per_s"} <= set(records[0])


def test_previews_are_small():
    assert small_preview(torch.rand(300, 400, 3)).shape == (96, 128, 3)
    assert small_preview(torch.rand(33, 66, 3)).shape == (33, 66, 3)
    flat = small_preview(torch.full((256, 256, 3), 0.5))
    assert flat.dtype == np.uint8 and (flat == 128).all()


def test_progress_reports_the_learning_rate_used_and_now_and_then_a_preview(taught_scene, tmp_path, monkeypatch):
    folder, preset = scene_and_preset(taught_scene, tmp_path)
    monkeypatch.setattr("trainers.training.loop.REPORT_SECONDS", -1.0)  # every step
    monkeypatch.setattr("trainers.training.loop.PREVIEW_SECONDS", -1.0)
    monkeypatch.setattr("trainers.storage.workspace.LOG_PROGRESS_SECONDS", 0.0)
    d = preset.distill = dataclasses.replace(preset.distill, steps=6, val_every=2, save_every=4, batch_rays=256)
    events = run_to_end("distill", preset, context(folder))
    progress = [e for e in events if e.kind == PROGRESS]
    assert [e.step for e in progress] == [1, 2, 3, 4, 5, 6]
    for e in progress:  # step s is the (s-1)-th update: it used the rate of step s-1
        assert e.lr == pytest.approx(warmup_then_decay(e.step - 1, d.lr, d.warmup_steps, d.warmup_lr, d.decay_steps))
    assert progress[0].preview is None and all(e.preview is not None for e in progress[2:])
    assert all(max(e.preview.shape[:2]) <= 128 for e in events if e.preview is not None)
    records = [json.loads(line) for line in (folder / "scene.metrics.jsonl").read_text().splitlines()]
    kinds = [(r["stage"], r["kind"]) for r in records if r["stage"] == "distill"]
    assert kinds.count(("distill", "progress")) == 6 and ("distill", "log") in kinds and ("distill", "saved") in kinds
    assert not (folder / "scene.resume").exists()  # no empty resume folder is left behind


def test_resume_checks_seed_data_and_downscale(taught_scene, tmp_path):
    folder, preset = scene_and_preset(taught_scene, tmp_path)
    ctx = context(folder)
    for event in run_job("distill", preset, ctx):
        if event.kind == PROGRESS:
            ctx.stop.set()
    assert event.kind == STOPPED and event.step > 0
    with pytest.raises(JobError, match=r"other settings \(--seed 0 saved, 1 given\)"):
        list(run_job("distill", preset, context(folder, resume=True, seed=1)))
    with pytest.raises(JobError, match=r"other settings \(--downscale 12 saved, 11 given\)"):
        list(run_job("distill", preset, context(folder, resume=True, downscale=11)))


def test_distilling_incomplete_pseudo_data_says_so(taught_scene, tmp_path):
    folder, preset = scene_and_preset(taught_scene, tmp_path)
    manifest_path = folder / "scene.pseudo" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest_path.write_text(json.dumps(manifest | {"complete": False, "planned": 20}))
    preset.distill = dataclasses.replace(preset.distill, steps=2, batch_rays=256)
    events = run_to_end("distill", preset, context(folder))
    assert any(e.kind == LOG and "pseudo data is incomplete (12 of 20 views" in e.message for e in events)


def test_online_resume_is_exact_when_the_stop_lands_during_a_refresh(taught_scene, tmp_path, monkeypatch):
    folder_a, preset = scene_and_preset(taught_scene, tmp_path / "a")
    folder_b, _ = scene_and_preset(taught_scene, tmp_path / "b")
    preset.distill = dataclasses.replace(preset.distill, online=True, online_buffer=2, online_every=4, steps=12,
                                         val_every=0, save_every=100, batch_rays=256, hard_rays=32, val_views=1)
    run_to_end("distill", preset, context(folder_a))

    ctx, real_refresh = context(folder_b), online_views.OnlineViews.refresh

    def stop_during_second_refresh(views, stop=None):
        if views.next_index == 3:  # views 0, 1 fill the buffer; view 2 comes at step 4, view 3 at step 8
            ctx.stop.set()
        return real_refresh(views, stop)

    monkeypatch.setattr(online_views.OnlineViews, "refresh", stop_during_second_refresh)
    events = run_to_end("distill", preset, ctx)
    assert events[-1].kind == STOPPED and events[-1].step == 8
    monkeypatch.undo()
    run_to_end("distill", preset, context(folder_b, resume=True))
    a = load_scene(folder_a / "scene.ckpt").student["weights"]
    b = load_scene(folder_b / "scene.ckpt").student["weights"]
    for name in a:
        assert torch.allclose(a[name], b[name], atol=1e-6), name


def test_the_done_message_counts_the_whole_stage_setup_included(taught_scene, tmp_path, monkeypatch):
    folder, preset = scene_and_preset(taught_scene, tmp_path)
    preset.distill = dataclasses.replace(preset.distill, steps=2, batch_rays=256)
    real_setup = Distill.setup

    def slow_setup(self):
        time.sleep(1.5)  # a stage's setup (online views, teacher renders) can take most of its time
        yield from real_setup(self)

    monkeypatch.setattr(Distill, "setup", slow_setup)
    done = run_to_end("distill", preset, context(folder))[-1]
    seconds = int(re.match(r"distilled in (\d+) s", done.message).group(1))
    assert seconds >= 1, done.message


def test_a_stopped_student_says_where_it_stopped(taught_scene, tmp_path):
    folder, preset = scene_and_preset(taught_scene, tmp_path)
    ctx = context(folder)
    for event in run_job("distill", preset, ctx):
        if event.kind == PROGRESS:
            ctx.stop.set()
    student = load_scene(folder / "scene.ckpt").student
    expected = f"distillation stopped at step {event.step} of {preset.distill.steps}"
    assert stage_text(student) == expected and describe_student(student) == expected
    assert stage_text(student | {"complete": True}) == "distilled"


def test_the_student_records_the_views_it_learnt_from_and_finetuning_keeps_them(taught_scene, tmp_path):
    folder, preset = scene_and_preset(taught_scene, tmp_path)
    preset.distill = dataclasses.replace(preset.distill, steps=2, batch_rays=256)
    preset.finetune = dataclasses.replace(preset.finetune, steps=2, batch_rays=256, val_every=1)
    run_to_end("distill", preset, context(folder))
    scene = load_scene(folder / "scene.ckpt")
    settings = json.loads((folder / "scene.pseudo" / "manifest.json").read_text())["settings"]
    assert scene.student["views"] == view_ranges(scene.meta, settings)
    assert scene.student["views"]["focal_scale"] == list(preset.pseudo.focal_scale)
    run_to_end("finetune", preset, context(folder))
    assert load_scene(folder / "scene.ckpt").student["views"] == scene.student["views"]
