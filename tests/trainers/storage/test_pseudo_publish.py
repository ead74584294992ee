"""Shards written by several ranks: pending until rank 0 publishes them under the names and in the order one
process would have written; leftovers of a crash cleared; views read in view order whatever the manifest order."""

import json

import numpy as np

from trainers.storage.pseudo_store import PseudoStore, shard_ranges


def _views(first, n, h=4, w=3):
    """n views whose colours and poses say their view number."""
    rgb = np.stack([np.full((h, w, 3), first + k, np.uint8) for k in range(n)])
    poses = np.tile(np.eye(4, dtype=np.float32), (n, 1, 1))
    poses[:, 0, 3] = np.arange(first, first + n)
    return rgb, np.zeros((n, h, w), np.float16), poses, np.full(n, 5.0, np.float32)


def _store(folder, planned=7) -> PseudoStore:
    store = PseudoStore(folder)
    store.create(4, 3, planned=planned, teacher_id="t", settings={"shard_images": 3})
    return store


def test_published_shards_are_what_one_process_writes(tmp_path):
    alone = _store(tmp_path / "alone")
    for first, n in ((0, 3), (3, 3), (6, 1)):
        alone.append(*_views(first, n), first=first)
    shared = _store(tmp_path / "shared")
    rank_1 = [shared.write_pending(3, *_views(3, 3))]
    rank_0 = [shared.write_pending(0, *_views(0, 3)), shared.write_pending(6, *_views(6, 1))]
    assert shared.manifest()["images"] == 0  # nothing is recorded before rank 0 publishes
    shared.publish(rank_0 + rank_1)
    for name in ("manifest.json", "shard_00000/rgb.npy", "shard_00001/poses.npy", "shard_00002/rgb.npy"):
        assert (alone.folder / name).read_bytes() == (shared.folder / name).read_bytes(), name
    assert sorted(p.name for p in shared.folder.iterdir()) == ["manifest.json", "shard_00000", "shard_00001",
                                                               "shard_00002"]


def test_missing_views_and_view_order_after_an_uneven_stop(tmp_path):
    store = _store(tmp_path / "p", planned=9)
    store.publish([store.write_pending(0, *_views(0, 2)), store.write_pending(3, *_views(3, 1))])  # stopped
    assert store.missing_views(9) == [2, 4, 5, 6, 7, 8]
    store.publish([store.write_pending(2, *_views(2, 1)), store.write_pending(4, *_views(4, 5))])  # resumed
    assert store.missing_views(9) == []
    assert [first for first, _ in shard_ranges(store.manifest())] == [0, 3, 2, 4]  # the order they were published
    views = store.views()
    assert views.poses[:, 0, 3].tolist() == list(range(9))  # read in view order


def test_a_crashed_ranks_pending_shards_are_cleared(tmp_path):
    store = _store(tmp_path / "p")
    store.append(*_views(0, 3), first=0)
    store.write_pending(3, *_views(3, 3))  # never published: its rank's run died
    (store.folder / "pending_0000006.tmp").mkdir()
    store.tidy()
    assert sorted(p.name for p in store.folder.iterdir()) == ["manifest.json", "shard_00000"]
    assert store.missing_views(7) == [3, 4, 5, 6]


def test_stores_written_before_shards_recorded_their_first_view_still_read(tmp_path):
    store = _store(tmp_path / "p")
    store.append(*_views(0, 3))
    store.append(*_views(3, 2))
    manifest = json.loads(store.manifest_path.read_text())
    for shard in manifest["shards"]:
        del shard["first"]
    store.manifest_path.write_text(json.dumps(manifest))
    assert shard_ranges(store.manifest()) == [(0, 3), (3, 2)] and store.missing_views(7) == [5, 6]
    assert store.views().poses[:, 0, 3].tolist() == [0, 1, 2, 3, 4]
