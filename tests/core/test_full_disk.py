"""A disk that fills up part-way through a checkpoint save gives the one-line 'disk full' error wherever the write
fails, and the previous checkpoint stays as it was and loads."""

import errno
import io

import pytest
import torch

from r2l_viewer.core import plain_files
from r2l_viewer.core.checkpoint import CheckpointError, load_scene, save_scene
from r2l_viewer.core.models import GridConfig, GridTeacher, model_record

from .test_checkpoint import _scene

FULL = "disk full while saving; the previous checkpoint is untouched"


class DiskWithRoom(io.FileIO):
    """A file on a disk with `room` bytes free: writes fit until the room is used up, then raise ENOSPC."""

    def __init__(self, path, room: int):
        super().__init__(path, "w")
        self.room = room

    def write(self, data) -> int:
        if len(data) > self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(data)
        return super().write(data)


def _payload_size(scene) -> int:
    buffer = io.BytesIO()
    torch.save(scene.to_payload(), buffer)
    return len(buffer.getvalue())


def _saved_scene(tmp_path, demo_tiny):
    path = tmp_path / "scene.ckpt"
    scene = _scene(demo_tiny)
    # tensors larger than a write buffer: torch's zip writer then hides the OSError behind a RuntimeError
    scene.teacher = model_record(GridTeacher(GridConfig(resolution=24, features=3, mlp_width=8)))
    save_scene(path, scene)
    scene.history.append({"job": "finetune", "step": 13})  # the new save differs from the one on disk
    return path, scene, path.read_bytes()


def _assert_untouched(path, before: bytes) -> None:
    assert path.read_bytes() == before
    assert load_scene(path).history[-1]["step"] == 12
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left behind


@pytest.mark.parametrize("fraction", [0.0, 0.001, 0.3, 0.9, 0.999])
def test_a_disk_filling_up_part_way_gives_the_clean_message(tmp_path, demo_tiny, monkeypatch, fraction):
    path, scene, before = _saved_scene(tmp_path, demo_tiny)
    room = int(_payload_size(scene) * fraction)
    monkeypatch.setattr(plain_files, "open", lambda name, mode: io.BufferedWriter(DiskWithRoom(name, room)),
                        raising=False)
    with pytest.raises(CheckpointError, match=FULL):
        save_scene(path, scene)
    _assert_untouched(path, before)


def test_a_disk_full_when_syncing_gives_the_clean_message(tmp_path, demo_tiny, monkeypatch):
    path, scene, before = _saved_scene(tmp_path, demo_tiny)

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(plain_files.os, "fsync", full)
    with pytest.raises(CheckpointError, match=FULL):
        save_scene(path, scene)
    _assert_untouched(path, before)


def test_a_really_full_disk_gives_the_clean_message(small_disk, demo_tiny):
    path = small_disk / "scene.ckpt"
    scene = _scene(demo_tiny)
    save_scene(path, scene)
    before = path.read_bytes()
    scene.teacher = model_record(GridTeacher(GridConfig(resolution=40, features=3, mlp_width=8)))  # ~0.8 MB
    with pytest.raises(CheckpointError, match=FULL):
        save_scene(path, scene)
    assert path.read_bytes() == before and load_scene(path).teacher["step"] == 40
    assert [p.name for p in small_disk.iterdir()] == ["scene.ckpt"]
