"""A job whose save meets a full disk ends with the one clean line and exit 2, from the command line, and the
checkpoint on disk stays as it was."""

import io

import pytest

from r2l_viewer.core import plain_files
from r2l_viewer.core.checkpoint import load_scene
from trainers.cli import train as cli
from trainers.cli.train import main

from tests.core.test_full_disk import FULL, DiskWithRoom
from tests.trainers.conftest import DEMO_DOWNSCALE, scene_and_preset, tiny_preset


@pytest.mark.parametrize("job,fixture", [("distill", "taught_scene"), ("finetune", "student_scene")])
def test_a_full_disk_while_saving_is_one_line_and_exit_2(request, tmp_path, monkeypatch, capsys, job, fixture):
    folder, _ = scene_and_preset(request.getfixturevalue(fixture), tmp_path)
    checkpoint = folder / "scene.ckpt"
    before = checkpoint.read_bytes()
    room = len(before) // 2  # some space left, but not enough for a checkpoint
    monkeypatch.setattr(cli, "get_preset", lambda name: tiny_preset())
    monkeypatch.setattr(plain_files, "open", lambda name, mode: io.BufferedWriter(DiskWithRoom(name, room)),
                        raising=False)
    args = [job, "--out", str(checkpoint), "--data", "demo", "--downscale", str(DEMO_DOWNSCALE), "--device", "cpu",
            "--quiet", f"--{job}.steps", "60", f"--{job}.save_every", "20"]
    if job == "distill":
        args += ["--force", "--distill.online", "true"]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("r2l-train: error: ") and FULL in err[0], err
    assert checkpoint.read_bytes() == before
    load_scene(checkpoint)
