"""The scene checkpoint: bit-exact round trips, atomic writes, and refusal of anything that is not plain data."""

import os
import pickle

import pytest
import torch

from r2l_viewer.core.checkpoint import CheckpointError, SceneCheckpoint, load_scene, save_scene
from r2l_viewer.core.models import GridConfig, GridTeacher, Student, StudentConfig, model_record


def _scene(demo_tiny) -> SceneCheckpoint:
    student = model_record(Student(StudentConfig(points_per_ray=4, frequencies=3, width=16, blocks=2)))
    student.update(stage="distilled", step=12)
    teacher = model_record(GridTeacher(GridConfig(resolution=8, features=3, mlp_width=8)))
    teacher.update(step=40)
    cameras = {name: split.poses for name, split in demo_tiny.splits.items()}
    history = [{"job": "distill", "step": 12, "psnr": 21.5, "note": None, "flag": True}]
    return SceneCheckpoint(demo_tiny.meta, cameras, teacher, student, history)


def test_round_trip_is_bit_exact(tmp_path, demo_tiny):
    original = _scene(demo_tiny)
    save_scene(tmp_path / "scene.ckpt", original)
    loaded = load_scene(tmp_path / "scene.ckpt")
    assert loaded.meta == original.meta
    assert loaded.history == original.history
    for key in ("student", "teacher"):
        a, b = getattr(original, key), getattr(loaded, key)
        assert a.keys() == b.keys() and a["config"] == b["config"]
        for name, tensor in a["weights"].items():
            assert torch.equal(tensor, b["weights"][name]) and tensor.dtype == b["weights"][name].dtype
    for split, poses in original.cameras.items():
        assert torch.equal(poses, loaded.cameras[split])
    o, d = torch.zeros(3, 3), torch.tensor([[0.0, 0.0, -1.0]] * 3)
    assert torch.equal(loaded.build_student()(o, d).rgb, original.build_student()(o, d).rgb)


def test_checkpoint_loads_with_plain_weights_only_torch_load(tmp_path, demo_tiny):
    save_scene(tmp_path / "scene.ckpt", _scene(demo_tiny))
    payload = torch.load(tmp_path / "scene.ckpt", weights_only=True)
    assert payload["format"] == "r2l-viewer.scene" and payload["version"] == 1
    assert payload["student"]["stage"] == "distilled"


def test_writes_are_atomic(tmp_path, demo_tiny, monkeypatch):
    path = tmp_path / "scene.ckpt"
    save_scene(path, _scene(demo_tiny))
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(CheckpointError, match="disk full"):
        save_scene(path, _scene(demo_tiny))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["scene.ckpt"]  # no temporary file left behind


class RunsCode:
    def __reduce__(self):
        return (os.system, (f"touch {MARKER}",))


MARKER = "/tmp/r2l-viewer-pickle-ran"


@pytest.mark.parametrize("writer", ["torch", "pickle"])
def test_a_pickle_that_would_run_code_is_refused_without_running(tmp_path, writer):
    if os.path.exists(MARKER):
        os.remove(MARKER)
    path = tmp_path / "evil.ckpt"
    if writer == "torch":
        torch.save({"format": "r2l-viewer.scene", "payload": RunsCode()}, path)
    else:
        path.write_bytes(pickle.dumps(RunsCode()))
    with pytest.raises(CheckpointError, match="refused") as e:
        load_scene(path)
    assert "\n" not in str(e.value)
    assert not os.path.exists(MARKER)


def test_truncated_file(tmp_path, demo_tiny):
    path = tmp_path / "scene.ckpt"
    save_scene(path, _scene(demo_tiny))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated, corrupt"):
        load_scene(path)


def test_files_that_are_not_scene_checkpoints(tmp_path):
    with pytest.raises(CheckpointError, match="no such file"):
        load_scene(tmp_path / "missing.ckpt")
    with pytest.raises(CheckpointError, match="is a folder"):
        load_scene(tmp_path)
    (tmp_path / "text.ckpt").write_text("hello")
    with pytest.raises(CheckpointError, match="not a readable scene checkpoint"):
        load_scene(tmp_path / "text.ckpt")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.ckpt")
    with pytest.raises(CheckpointError, match="not an R2L Viewer scene checkpoint"):
        load_scene(tmp_path / "other.ckpt")
    torch.save({"format": "r2l-viewer.scene", "version": 99}, tmp_path / "future.ckpt")
    with pytest.raises(CheckpointError, match="newer"):
        load_scene(tmp_path / "future.ckpt")
