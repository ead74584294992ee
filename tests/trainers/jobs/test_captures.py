"""Real phone captures end to end at a very small size: forward_c (forward-facing, NDC) and fruit (360 degrees,
unbounded, contracted), teacher to finetuned student, and a later job that asks for another scene kind."""

from __future__ import annotations

import math

import pytest
import torch

from r2l_viewer.core.checkpoint import load_scene
from r2l_viewer.core.fast_student import FastStudent
from r2l_viewer.core.render import render_image
from r2l_viewer.core.datasets import load_dataset
from trainers.events import LOG
from trainers.jobs.pipeline import run_job
from trainers.errors import JobError
from tests.trainers.conftest import context, run_to_end, tiny_preset


def capture_pipeline(folder, data, downscale):
    """teacher, pseudo, distill, finetune on a capture with the test preset; every event."""
    preset = tiny_preset()
    events = []
    for job in ("teacher", "pseudo", "distill", "finetune"):
        events += run_to_end(job, preset, context(folder, data=str(data), downscale=downscale))
    return events


@pytest.mark.parametrize("name, downscale, kind", [("forward_c", 64, "forward"), ("fruit", 32, "unbounded")])
def test_a_capture_runs_end_to_end_as_its_kind(captures_dir, tmp_path, name, downscale, kind):
    events = capture_pipeline(tmp_path, captures_dir / name, downscale)
    scene = load_scene(tmp_path / "scene.ckpt")
    assert scene.meta.kind == kind and scene.student["complete"]
    assert any("scene kind" in e.message and kind in e.message for e in events if e.kind == LOG)
    student = scene.build_student("cpu")
    assert (student.config.contraction is not None) == (kind == "unbounded")
    assert (student.config.ndc is not None) == (kind == "forward")
    teacher = scene.build_teacher("cpu")
    assert teacher.config.sampler == "importance"  # 'auto': the space of both is full
    camera = scene.meta.intrinsics.resized(12, 8)
    for model in (teacher, student):
        out = render_image(model, scene_pose(scene), camera, 4096)
        assert torch.isfinite(out.rgb).all() and out.rgb.std() > 0
    origins, directions = torch.randn(64, 3) * 0.1, torch.randn(64, 3)
    plain = student(origins, directions).rgb
    assert torch.allclose(FastStudent(student)(origins, directions), plain, atol=1e-5)


def scene_pose(scene):
    """A validation camera of the scene, from the split its teacher was judged on."""
    meta = scene.meta
    ds = load_dataset(meta.source, meta.extra["downscale"], ("val",), meta.kind)
    return ds.split("val").poses[0]


def test_a_later_job_refuses_another_scene_kind(captures_dir, tmp_path):
    preset = tiny_preset()
    data = str(captures_dir / "forward_c")
    preset.teacher.steps = 20
    run_to_end("teacher", preset, context(tmp_path, data=data, downscale=64))
    with pytest.raises(JobError, match="models the scene as 'forward'"):
        list(run_job("pseudo", preset, context(tmp_path, data=data, downscale=64, scene_kind="unbounded")))
    assert math.isfinite(load_scene(tmp_path / "scene.ckpt").teacher["step"])
