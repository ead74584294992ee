"""The pseudo-data job: a full disk at either write, resume after it, settings checks, and a new set that replaces
the old one only when it is complete."""

import dataclasses
import errno
import os

import numpy as np
import pytest

from trainers.storage import pseudo_store
from trainers.events import DONE, LOG, STOPPED
from trainers.jobs.pipeline import run_job
from trainers.storage.pseudo_store import PseudoStore
from trainers.errors import JobError

from tests.trainers.conftest import context, scene_and_preset


def _fail_once(monkeypatch, target, name, when):
    """Make `target.name` raise ENOSPC once, on the first call whose path satisfies `when`."""
    real, failed = getattr(target, name), []

    def failing(path, *args, **kwargs):
        if not failed and when(str(path)):
            failed.append(path)
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(target, name, failing)
    return failed


@pytest.mark.parametrize("point", ["shard", "manifest"])
def test_a_full_disk_gives_one_line_then_resume_finishes_the_set(taught_scene, tmp_path, monkeypatch, point):
    folder, preset = scene_and_preset(taught_scene, tmp_path)
    preset.pseudo = dataclasses.replace(preset.pseudo, images=8)  # shards of 5: the second one fails
    reference = PseudoStore(folder / "scene.pseudo")  # the fixture's 12 views, made by an uninterrupted run
    if point == "shard":  # the second shard's colours
        failed = _fail_once(monkeypatch, pseudo_store, "save_array", lambda p: "shard_00001" in p)
    else:  # the manifest that records the second shard
        failed = _fail_once(monkeypatch, pseudo_store.os, "replace", lambda p: p.endswith("manifest.json.tmp")
                            and (folder / "scene.pseudo.new" / "shard_00001").exists())
    with pytest.raises(JobError) as error:
        list(run_job("pseudo", preset, context(folder)))
    assert failed, "the failure was not provoked"
    message = str(error.value)
    assert message.startswith("no space left on device (disk full) writing ") and "5 views written so far are kept" in message
    assert message.endswith("free space, then run the same command with --resume") and "\n" not in message
    new = folder / "scene.pseudo.new"
    assert sorted(p.name for p in new.iterdir()) == ["manifest.json", "shard_00000"]  # no .tmp, no stray shard
    assert PseudoStore(new).manifest()["images"] == 5
    assert reference.manifest()["complete"] and reference.manifest()["images"] == 12  # the old set is untouched
    expected = [reference.read_shard(index)["rgb"] for index in range(2)]

    monkeypatch.undo()
    events = list(run_job("pseudo", preset, context(folder, resume=True)))
    assert events[-1].kind == DONE and events[-1].metrics["images"] == 8
    assert any(e.kind == LOG and "resuming after 5 views" in e.message for e in events)
    assert not new.exists()
    store = PseudoStore(folder / "scene.pseudo")
    assert [s["images"] for s in store.manifest()["shards"]] == [5, 3]
    assert np.array_equal(store.read_shard(0)["rgb"], expected[0])  # the same views as an uninterrupted run
    assert np.array_equal(store.read_shard(1)["rgb"], expected[1][:3])


def test_opening_a_store_clears_what_a_crash_left(tmp_path):
    store = PseudoStore(tmp_path / "p")
    store.create(2, 2, planned=4, teacher_id="t", settings={})
    store.append(np.zeros((1, 2, 2, 3), np.uint8), np.zeros((1, 2, 2)), np.eye(4)[None], np.ones(1))
    (store.folder / "manifest.json.tmp").write_text("{")
    (store.folder / "shard_00001").mkdir()
    (store.folder / "shard_00001" / "rgb.npy").write_bytes(b"x")
    (store.folder / "shard_00002.tmp").mkdir()
    store.tidy()
    assert sorted(p.name for p in store.folder.iterdir()) == ["manifest.json", "shard_00000"]
    assert store.append(np.zeros((1, 2, 2, 3), np.uint8), np.zeros((1, 2, 2)), np.eye(4)[None], np.ones(1))["images"] == 2


def test_resume_with_other_settings_is_refused_and_keeps_the_views(taught_scene, tmp_path):
    folder, preset = scene_and_preset(taught_scene, tmp_path)
    preset.pseudo = dataclasses.replace(preset.pseudo, focal_scale=(1.0, 1.5))
    with pytest.raises(JobError, match=r"saved with other settings \(--pseudo.focal_scale 1.0,2.0 saved, 1.0,1.5 given\).*"
                                       r"without --resume"):
        list(run_job("pseudo", preset, context(folder, resume=True)))
    manifest = PseudoStore(folder / "scene.pseudo").manifest()
    assert manifest["images"] == 12 and manifest["complete"]


def test_resume_extends_the_set_when_only_the_count_grew(taught_scene, tmp_path):
    folder, preset = scene_and_preset(taught_scene, tmp_path)
    before = PseudoStore(folder / "scene.pseudo").read_shard(0)["rgb"]
    preset.pseudo = dataclasses.replace(preset.pseudo, images=14)
    events = list(run_job("pseudo", preset, context(folder, resume=True)))
    assert events[-1].kind == DONE and events[-1].metrics["images"] == 14
    store = PseudoStore(folder / "scene.pseudo")
    assert [s["images"] for s in store.manifest()["shards"]] == [5, 5, 2, 2]
    assert np.array_equal(store.read_shard(0)["rgb"], before)


def test_a_new_set_replaces_a_complete_one_only_once_it_is_complete(taught_scene, tmp_path):
    folder, preset = scene_and_preset(taught_scene, tmp_path)
    preset.pseudo = dataclasses.replace(preset.pseudo, images=8)
    old = os.stat(folder / "scene.pseudo" / "manifest.json").st_mtime_ns
    ctx = context(folder, seed=1)
    events = []
    for event in run_job("pseudo", preset, ctx):
        events.append(event)
        if event.step >= 6:
            ctx.stop.set()
    assert events[-1].kind == STOPPED and "stays in use" in events[-1].message
    assert os.stat(folder / "scene.pseudo" / "manifest.json").st_mtime_ns == old  # still the complete old set
    assert PseudoStore(folder / "scene.pseudo.new").manifest()["images"] >= 5

    events = list(run_job("pseudo", preset, context(folder, seed=1, resume=True)))
    assert events[-1].kind == DONE and not (folder / "scene.pseudo.new").exists()
    manifest = PseudoStore(folder / "scene.pseudo").manifest()
    assert manifest["complete"] and manifest["settings"]["seed"] == 1 and manifest["images"] == 8


def test_a_ray_budget_renders_fewer_views_of_larger_images(taught_scene, tmp_path):
    folder, preset = scene_and_preset(taught_scene, tmp_path)
    pixels = 33 * 33  # the demo at the tests' size
    preset.pseudo = dataclasses.replace(preset.pseudo, images=12, ray_budget=7 * pixels + 5)
    events = list(run_job("pseudo", preset, context(folder, force=True)))
    assert events[-1].kind == DONE
    manifest = PseudoStore(folder / "scene.pseudo").manifest()
    assert manifest["images"] == 7 and manifest["settings"]["images"] == 7
