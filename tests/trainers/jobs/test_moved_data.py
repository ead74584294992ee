"""A dataset that moved since training: the error says the path came from the checkpoint and suggests --data, and
an interrupted run continues on the dataset's new place. Distilling while only an unfinished pseudo set exists
suggests finishing it."""

import dataclasses
import json

import pytest

from r2l_viewer.core.checkpoint import load_scene
from trainers.cli import train as cli
from trainers.cli.train import main
from trainers.events import PROGRESS, STOPPED
from trainers.jobs.pipeline import run_job
from trainers.errors import JobError
from trainers.storage.workspace import RunContext, Workspace

from tests.core.test_datasets import _tiny_blender
from tests.trainers.conftest import context, scene_and_preset, tiny_preset


def _short_preset():
    preset = tiny_preset()
    preset.teacher = dataclasses.replace(preset.teacher, steps=20, start_resolution=16, upsample_steps=(10,),
                                         grid=dataclasses.replace(preset.teacher.grid, resolution=24), val_views=1)
    return preset


def _stopped_teacher(folder, data) -> None:
    """A teacher run on `data` stopped after its first steps (its state saved)."""
    ctx = RunContext(Workspace(folder / "scene.ckpt"), data=str(data), device="cpu")
    for event in run_job("teacher", _short_preset(), ctx):
        if event.kind == PROGRESS:
            ctx.stop.set()
    assert event.kind == STOPPED and event.step > 0


def test_a_moved_dataset_is_named_as_the_checkpoints_and_resume_continues_on_its_new_place(tmp_path, monkeypatch,
                                                                                            capsys):
    data = _tiny_blender(tmp_path / "lego")
    _stopped_teacher(tmp_path, data)
    moved = data.rename(tmp_path / "lego-moved")
    monkeypatch.setattr(cli, "get_preset", lambda name: _short_preset())
    command = ["teacher", "--out", str(tmp_path / "scene.ckpt"), "--device", "cpu", "--quiet", "--resume"]
    assert main(command) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"{data}: no such folder; it is the dataset scene.ckpt was trained on" in err[0], err
    assert "if the dataset moved, give its new place with --data DIR" in err[0]
    assert main([*command, "--data", str(moved)]) == 0, capsys.readouterr().err
    assert load_scene(tmp_path / "scene.ckpt").teacher["complete"]


def test_distilling_with_only_an_unfinished_pseudo_set_suggests_finishing_it(taught_scene, tmp_path):
    folder, preset = scene_and_preset(taught_scene, tmp_path)
    unfinished = (folder / "scene.pseudo").rename(folder / "scene.pseudo.new")
    manifest = json.loads((unfinished / "manifest.json").read_text())
    (unfinished / "manifest.json").write_text(json.dumps(manifest | {"complete": False, "planned": 20}))
    preset.distill = dataclasses.replace(preset.distill, steps=2)
    with pytest.raises(JobError, match=r"no pseudo data yet; an unfinished set is in scene.pseudo.new \(12 of 20 "
                                       r"views\): finish it with `r2l-train pseudo --resume`"):
        list(run_job("distill", preset, context(folder)))
