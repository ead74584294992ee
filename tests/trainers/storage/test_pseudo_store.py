"""Pseudo-data shards: exact round trips, batches over all views, and a full disk that loses nothing."""

import errno

import numpy as np
import pytest
import torch

from trainers.storage import pseudo_store
from trainers.storage.pseudo_store import PseudoStore, bytes_per_ray
from trainers.errors import JobError


def _views(n, h=6, w=5, seed=0):
    rng = np.random.default_rng(seed)
    rgb = rng.integers(0, 256, (n, h, w, 3), dtype=np.uint8)
    depth = rng.random((n, h, w), dtype=np.float32).astype(np.float16)
    poses = np.tile(np.eye(4, dtype=np.float32), (n, 1, 1))
    poses[:, :3, 3] = rng.random((n, 3))
    focals = rng.random(n).astype(np.float32) + 5
    return rgb, depth, poses, focals


def test_shards_round_trip_exactly(tmp_path):
    store = PseudoStore(tmp_path / "p")
    store.create(6, 5, planned=7, teacher_id="t", settings={"a": 1})
    first, second = _views(4, seed=1), _views(3, seed=2)
    store.append(*first)
    manifest = store.append(*second)
    assert manifest["images"] == 7 and [s["images"] for s in manifest["shards"]] == [4, 3]
    for index, original in enumerate((first, second)):
        loaded = store.read_shard(index)
        for key, array in zip(("rgb", "depth", "poses", "focals"), original):
            assert loaded[key].dtype == array.dtype and np.array_equal(loaded[key], array)
    pixels = 6 * 5  # 3 B RGB + 2 B depth per ray, and a 4x4 float32 pose and a float32 focal per view
    assert bytes_per_ray(store.finish()) == pytest.approx(5.0 + (64 + 4) / pixels)


def test_batches_cover_every_view_and_match_the_stored_colours(tmp_path):
    store = PseudoStore(tmp_path / "p")
    store.create(6, 5, planned=9, teacher_id="t", settings={})
    arrays = [_views(3, seed=s) for s in range(3)]
    for a in arrays:
        store.append(*a)
    views = store.views()
    assert len(views) == 9
    gen = torch.Generator().manual_seed(0)
    batch = views.sample(4000, gen)
    assert batch.rgb.shape == (4000, 3) and batch.origins.shape == (4000, 3)
    all_rgb = np.concatenate([a[0] for a in arrays]).reshape(-1, 3)
    colours = {tuple(c) for c in all_rgb.tolist()}
    assert {tuple(c) for c in (batch.rgb * 255).round().int().tolist()} <= colours
    origins = {tuple(np.round(p[:3, 3], 5)) for a in arrays for p in a[2]}
    assert {tuple(np.round(o, 5)) for o in batch.origins.numpy()} == origins  # every view was drawn


def test_batches_with_depth_take_each_rays_stored_depth(tmp_path):
    store = PseudoStore(tmp_path / "p")
    store.create(6, 5, planned=6, teacher_id="t", settings={})
    arrays = [_views(3, seed=s) for s in (4, 5)]
    for a in arrays:
        store.append(*a)
    batch = store.views().sample(3000, torch.Generator().manual_seed(1), depth=True)
    assert batch.depth.dtype == torch.float32 and batch.depth.shape == (3000,)
    stored = {(tuple(c), d) for a in arrays for c, d in zip(a[0].reshape(-1, 3).tolist(), a[1].reshape(-1).tolist())}
    pairs = {(tuple(c), d) for c, d in zip((batch.rgb * 255).round().int().tolist(), batch.depth.tolist())}
    assert pairs <= stored  # each ray's depth is the one stored with its colour
    assert store.views().sample(10, torch.Generator().manual_seed(1)).depth is None  # only when asked for


def test_a_full_disk_keeps_the_shards_already_written(tmp_path, monkeypatch):
    store = PseudoStore(tmp_path / "p")
    store.create(6, 5, planned=8, teacher_id="t", settings={})
    store.append(*_views(4))
    real_save = pseudo_store.save_array

    def disk_full(path, array):
        if "depth" in str(path):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_save(path, array)

    monkeypatch.setattr(pseudo_store, "save_array", disk_full)
    with pytest.raises(JobError, match="disk full") as e:
        store.append(*_views(4, seed=3))
    assert "4 views written so far are kept" in str(e.value) and "--resume" in str(e.value)
    assert sorted(p.name for p in store.folder.iterdir()) == ["manifest.json", "shard_00000"]
    assert store.manifest()["images"] == 4


def test_a_really_full_disk_says_no_space_left(small_disk):
    store = PseudoStore(small_disk / "p")
    store.create(100, 100, planned=40, teacher_id="t", settings={})
    with pytest.raises(JobError) as e:  # 20 views of 100x100 need 1 MB
        store.append(*_views(20, h=100, w=100))
    assert str(e.value).startswith("no space left on device (disk full) writing ") and "--resume" in str(e.value)
    assert sorted(p.name for p in store.folder.iterdir()) == ["manifest.json"] and store.manifest()["images"] == 0
