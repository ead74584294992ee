"""Distillation on 2 ranks (torchrun, gloo on the CPU): the same student as one process drawing the same ray
streams, rank 0 alone writing, and a stop on every rank at one step that --resume continues exactly."""

import dataclasses
import signal
import time

from r2l_viewer.core.checkpoint import load_payload, load_scene

from tests.trainers.conftest import context, run_to_end, scene_and_preset
from tests.trainers.distributed.launch import (SCENE_FLAGS, config_flags, largest_relative_difference,
                                               one_thread, records, start_torchrun, student_weights, torchrun,
                                               wait_for_progress)

TOLERANCE = 1e-5  # relative: 2 ranks add the same gradients in another order


def _distill_flags(preset, out, **changes) -> list[str]:
    distill = dataclasses.replace(preset.distill, **changes)
    return ["distill", "--out", str(out), *SCENE_FLAGS, "--quiet", *config_flags(distill, "distill")]


def test_two_ranks_train_the_student_one_process_trains_from_the_same_streams(taught_scene, tmp_path):
    one, preset = scene_and_preset(taught_scene, tmp_path / "one")
    two, _ = scene_and_preset(taught_scene, tmp_path / "two")
    short = {"steps": 30, "val_every": 15, "save_every": 20}  # hard examples on: each stream has its own pool
    shared = torchrun(_distill_flags(preset, two / "scene.ckpt", **short))
    assert shared.returncode == 0, shared.stderr
    preset.distill = dataclasses.replace(preset.distill, ray_streams=2, **short)
    with one_thread():
        run_to_end("distill", preset, context(one))  # one process drawing the same two streams
    assert largest_relative_difference(student_weights(one / "scene.ckpt"), student_weights(two / "scene.ckpt")) < TOLERANCE
    student = load_scene(two / "scene.ckpt").student
    assert student["complete"] and student["step"] == 30
    assert student["val_psnr"] == load_scene(one / "scene.ckpt").student["val_psnr"]  # (4 decimals)
    log = [r for r in records(two / "scene.metrics.jsonl") if r["stage"] == "distill"]
    assert [r["step"] for r in log if r["kind"] == "validation"] == [15, 30]  # rank 0's records only, once each
    assert [r["kind"] for r in log].count("done") == 1
    assert shared.stderr.count("r2l-train: saved") == 1  # rank 0 speaks; rank 1 is quiet


def test_the_same_run_with_one_stream_draws_other_rays(taught_scene, tmp_path):
    """The comparison above can fail: one process with its usual single stream ends elsewhere."""
    one, preset = scene_and_preset(taught_scene, tmp_path / "one")
    two, _ = scene_and_preset(taught_scene, tmp_path / "two")
    for folder, streams in ((one, 1), (two, 2)):
        preset.distill = dataclasses.replace(preset.distill, steps=10, val_every=0, ray_streams=streams)
        run_to_end("distill", preset, context(folder))
    assert largest_relative_difference(student_weights(one / "scene.ckpt"), student_weights(two / "scene.ckpt")) > 1e-3


def test_a_stop_saves_every_ranks_streams_at_one_step_and_resume_continues_exactly(taught_scene, tmp_path):
    two, preset = scene_and_preset(taught_scene, tmp_path / "two")
    one, _ = scene_and_preset(taught_scene, tmp_path / "one")
    run = {"steps": 200, "batch_rays": 256, "hard_rays": 32, "val_every": 0, "save_every": 1000}
    (two / "scene.metrics.jsonl").unlink()  # (the copied scene's records: only this run's count)
    process = start_torchrun(_distill_flags(preset, two / "scene.ckpt", **run))
    wait_for_progress([process], two / "scene.metrics.jsonl", "distill")
    process.send_signal(signal.SIGTERM)  # torchrun passes it to both ranks
    began = time.monotonic()
    _, err = process.communicate(timeout=60)
    assert process.returncode != 0 and time.monotonic() - began < 15, err
    assert "r2l-train: stopped; continue with the same command and --resume" in err
    state = load_payload(two / "scene.resume" / "distill.pt")
    step = state["step"]
    assert 0 < step < 200 and len(state["streams"]) == 2 and all(len(s["pool"]["rgb"]) for s in state["streams"])
    assert load_scene(two / "scene.ckpt").student["step"] == step
    assert [r["kind"] for r in records(two / "scene.metrics.jsonl")].count("stopped") == 1

    resumed = torchrun(["distill", "--out", str(two / "scene.ckpt"), "--resume", "--quiet"])
    assert resumed.returncode == 0, resumed.stderr
    preset.distill = dataclasses.replace(preset.distill, ray_streams=2, **run)
    with one_thread():
        run_to_end("distill", preset, context(one))  # one process, the same two streams
    assert largest_relative_difference(student_weights(one / "scene.ckpt"), student_weights(two / "scene.ckpt")) < TOLERANCE
    assert not (two / "scene.resume").exists()
