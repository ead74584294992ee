"""Pseudo data on 2 ranks (torchrun): the same files byte for byte as one process, and a stop on both ranks that
--resume finishes, every view rendered once and the same as one process renders it."""

import dataclasses
import signal

import numpy as np
import torch

from r2l_viewer.core.checkpoint import load_scene
from trainers.events import to_preview
from trainers.storage.pseudo_store import PseudoStore, shard_ranges
from trainers.training.views import pseudo_pose, render_pseudo_view, view_generator

from tests.trainers.conftest import context, run_to_end, scene_and_preset
from tests.trainers.distributed.launch import config_flags, one_thread, start_torchrun, torchrun, wait_for_progress


VIEWS = 80  # a few seconds of rendering on 2 ranks: stopped after the first


def _files(folder) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_two_ranks_write_the_same_pseudo_data_byte_for_byte(taught_scene, tmp_path):
    one, preset = scene_and_preset(taught_scene, tmp_path / "one")
    two, _ = scene_and_preset(taught_scene, tmp_path / "two")
    preset.pseudo = dataclasses.replace(preset.pseudo, images=11, shard_images=3)  # 4 shards: 2 for each rank
    shared = torchrun(["pseudo", "--out", str(two / "scene.ckpt"), "--seed", "3", "--quiet",
                       *config_flags(preset.pseudo, "pseudo")])
    assert shared.returncode == 0, shared.stderr
    with one_thread():
        run_to_end("pseudo", preset, context(one, seed=3))
    written = _files(two / "scene.pseudo")
    assert sorted(written) == ["manifest.json"] + [f"shard_0000{k}/{a}.npy" for k in range(4)
                                                   for a in ("depth", "focals", "poses", "rgb")]
    assert written == _files(one / "scene.pseudo")
    assert not (two / "scene.pseudo.new").exists()


def test_a_stop_on_two_ranks_keeps_both_ranks_views_and_resume_finishes_the_set(taught_scene, tmp_path):
    folder, preset = scene_and_preset(taught_scene, tmp_path)
    preset.pseudo = dataclasses.replace(preset.pseudo, images=VIEWS, shard_images=7)
    (folder / "scene.metrics.jsonl").unlink()  # (the copied scene's records: only this run's count)
    process = start_torchrun(["pseudo", "--out", str(folder / "scene.ckpt"), "--quiet",
                              *config_flags(preset.pseudo, "pseudo")])
    wait_for_progress([process], folder / "scene.metrics.jsonl", "pseudo")
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode != 0 and "r2l-train: stopped; continue with the same command and --resume" in err, err
    partial = PseudoStore(folder / "scene.pseudo.new")  # the complete old set stays in use meanwhile
    manifest = partial.manifest()
    assert 2 <= manifest["images"] < VIEWS and not manifest["complete"]
    blocks = {first // 7 for first, _ in shard_ranges(manifest)}
    assert {b % 2 for b in blocks} == {0, 1}  # both ranks' views were published
    assert not list(partial.folder.glob("pending_*"))

    resumed = torchrun(["pseudo", "--out", str(folder / "scene.ckpt"), "--resume", "--quiet"])
    assert resumed.returncode == 0, resumed.stderr
    store = PseudoStore(folder / "scene.pseudo")
    manifest = store.manifest()
    assert manifest["complete"] and manifest["images"] == VIEWS and not partial.folder.exists()
    held = sorted(i for first, count in shard_ranges(manifest) for i in range(first, first + count))
    assert held == list(range(VIEWS))  # every view exactly once
    views = store.views()
    meta = load_scene(folder / "scene.ckpt").meta
    expected_poses = torch.stack([pseudo_pose(meta, view_generator(0, i), None, (1.0, 1.0)) for i in range(VIEWS)])
    assert torch.allclose(views.poses, expected_poses)  # in view order
    teacher = load_scene(folder / "scene.ckpt").build_teacher(torch.device("cpu"))
    with one_thread():
        for index in (0, 13, 50, VIEWS - 1):  # as one process renders them
            rgb = render_pseudo_view(teacher, meta, preset.pseudo, 0, index)[0]
            assert np.array_equal(_stored_rgb(store, index), to_preview(rgb))


def _stored_rgb(store: PseudoStore, index: int) -> np.ndarray:
    """View `index`'s colours as stored (uint8 [H, W, 3])."""
    for shard, (first, count) in enumerate(shard_ranges(store.manifest())):
        if first <= index < first + count:
            return store.read_shard(shard)["rgb"][index - first]
    raise AssertionError(f"view {index} is in no shard")
