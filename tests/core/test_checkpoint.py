"""The scene checkpoint: bit-exact round trips, atomic writes, and refusal of anything that is not plain data."""

import collections
import json
import os
import pickle
import stat
import threading
import zipfile
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
import torch

from r2l_viewer.core.checkpoint import CheckpointError, SceneCheckpoint, atomic_save, load_scene, save_scene
from r2l_viewer.core.models import GridConfig, GridTeacher, ModelRecordError, Student, StudentConfig, model_record


FREQUENCY_STUDENT = StudentConfig(points_per_ray=4, frequencies=3, width=16, blocks=2)
GRID_STUDENT = StudentConfig(points_per_ray=4, encoding="grid", grid_planes=(4, 8), grid_volumes=(4,), grid_channels=2,
                             width=16, blocks=2, box_min=(-1.0, -1.0, -1.0), box_max=(1.0, 1.0, 1.0))


def _scene(demo_tiny, student_config: StudentConfig = FREQUENCY_STUDENT) -> SceneCheckpoint:
    student = model_record(Student(student_config))
    student.update(stage="distilled", step=12)
    teacher = model_record(GridTeacher(GridConfig(resolution=8, features=3, mlp_width=8)))
    teacher.update(step=40)
    cameras = {name: split.poses for name, split in demo_tiny.splits.items()}
    history = [{"job": "distill", "step": 12, "psnr": 21.5, "note": None, "flag": True}]
    return SceneCheckpoint(demo_tiny.meta, cameras, teacher, student, history)


@pytest.mark.parametrize("student_config", [FREQUENCY_STUDENT, GRID_STUDENT], ids=["frequency", "grid"])
def test_round_trip_is_bit_exact(tmp_path, demo_tiny, student_config):
    original = _scene(demo_tiny, student_config)
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
    o, d = torch.tensor([[0.0, 0.0, 4.0]] * 3), torch.tensor([[0.0, 0.0, -1.0], [0.1, 0.0, -1.0], [0.0, 0.2, -1.0]])
    assert torch.equal(loaded.build_student()(o, d).rgb, original.build_student()(o, d).rgb)
    assert loaded.build_student().config == student_config


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
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        load_scene(path)


def test_files_that_are_not_scene_checkpoints(tmp_path):
    with pytest.raises(CheckpointError, match="no such file"):
        load_scene(tmp_path / "missing.ckpt")
    with pytest.raises(CheckpointError, match="is a folder"):
        load_scene(tmp_path)
    (tmp_path / "text.ckpt").write_text("hello")
    with pytest.raises(CheckpointError, match=r"not a scene checkpoint \(not a torch file\)"):
        load_scene(tmp_path / "text.ckpt")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.ckpt")
    with pytest.raises(CheckpointError, match="not an R2L Viewer scene checkpoint"):
        load_scene(tmp_path / "other.ckpt")
    torch.save({"format": "r2l-viewer.scene", "version": 99}, tmp_path / "future.ckpt")
    with pytest.raises(CheckpointError, match="newer"):
        load_scene(tmp_path / "future.ckpt")


def _assert_one_line(excinfo, *parts):
    text = str(excinfo.value)
    assert "\n" not in text
    for part in parts:
        assert part in text, text


def test_foreign_files_are_named_for_what_they_are_not_called_dangerous(tmp_path):
    png = tmp_path / "picture.ckpt"
    iio.imwrite(png, np.zeros((4, 4, 3), np.uint8), extension=".png")
    text = tmp_path / "settings.ckpt"
    text.write_text(json.dumps({"format": "r2l-viewer.scene", "version": 1}))
    plain_pickle = tmp_path / "plain.ckpt"
    plain_pickle.write_bytes(pickle.dumps({"a": [1, 2]}))
    (tmp_path / "empty.ckpt").write_bytes(b"")
    with zipfile.ZipFile(tmp_path / "archive.ckpt", "w") as archive:
        archive.writestr("notes.txt", "not a checkpoint")
    for path in (png, text):
        with pytest.raises(CheckpointError) as e:
            load_scene(path)
        _assert_one_line(e, str(path), "not a scene checkpoint (not a torch file)")
        assert "refused" not in str(e.value) and "run code" not in str(e.value)
    with pytest.raises(CheckpointError) as e:
        load_scene(plain_pickle)
    _assert_one_line(e, "not a scene checkpoint (a Python pickle)")
    with pytest.raises(CheckpointError) as e:
        load_scene(tmp_path / "empty.ckpt")
    _assert_one_line(e, "empty file")
    with pytest.raises(CheckpointError) as e:
        load_scene(tmp_path / "archive.ckpt")
    _assert_one_line(e, "not a scene checkpoint (a zip archive, not a torch file)")


@pytest.mark.parametrize("zip_format", [True, False])
def test_truncated_torch_files_say_so(tmp_path, zip_format):
    path = tmp_path / "scene.ckpt"
    torch.save({"format": "r2l-viewer.scene", "w": torch.zeros(1000)}, path, _use_new_zipfile_serialization=zip_format)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 100])
    with pytest.raises(CheckpointError) as e:
        load_scene(path)
    _assert_one_line(e, str(path), "truncated or corrupt")


def test_a_legacy_format_torch_file_that_would_run_code_is_refused(tmp_path):
    if os.path.exists(MARKER):
        os.remove(MARKER)
    path = tmp_path / "old.ckpt"
    torch.save({"payload": RunsCode()}, path, _use_new_zipfile_serialization=False)
    with pytest.raises(CheckpointError) as e:
        load_scene(path)
    _assert_one_line(e, "refused", "would run code", "system")
    assert not os.path.exists(MARKER)


@pytest.mark.parametrize("change,expected", [
    (lambda p: p.pop("version"), "has no format version"),
    (lambda p: p.update(version=True), "format version True is not valid"),
    (lambda p: p.update(version=0), "format version 0 is not valid"),
    (lambda p: p.update(version="1"), "format version '1' is not valid"),
    (lambda p: p["student"].update(stage="half-baked"), "student stage 'half-baked' is not one of distilled, finetuned"),
    (lambda p: p["teacher"].pop("weights"), "teacher record is malformed"),
    (lambda p: p.update(cameras={"train": torch.zeros(3, 3)}), "cameras are malformed"),
    (lambda p: p.update(cameras=[torch.eye(4)]), "cameras are malformed"),
    (lambda p: p.update(history={"step": 1}), "history is malformed"),
    (lambda p: p.update(history=[{"step": 1}, "note"]), "history is malformed"),
])
def test_malformed_payloads_are_refused_with_a_reason(tmp_path, demo_tiny, change, expected):
    payload = _scene(demo_tiny).to_payload()
    change(payload)
    path = tmp_path / "scene.ckpt"
    torch.save(payload, path)
    with pytest.raises(CheckpointError) as e:
        load_scene(path)
    _assert_one_line(e, str(path), expected)


def test_a_model_record_that_does_not_fit_names_the_file(tmp_path, demo_tiny):
    scene = _scene(demo_tiny)
    scene.student["config"]["width"] = 32  # the weights are for width 16
    save_scene(tmp_path / "scene.ckpt", scene)
    with pytest.raises(ModelRecordError) as e:
        load_scene(tmp_path / "scene.ckpt").build_student()
    _assert_one_line(e, str(tmp_path / "scene.ckpt"), "weights do not fit")


@pytest.mark.parametrize("bad,where", [
    (Path("/data/lego"), "history[0].source is a pathlib.PosixPath"),
    (np.float64(21.5), "history[0].source is a numpy.float64"),
    (np.int64(3), "history[0].source is a numpy.int64"),
    ({1, 2}, "history[0].source is a builtins.set"),
])
def test_a_payload_that_would_not_load_is_not_saved_and_the_old_file_stays(tmp_path, demo_tiny, bad, where):
    path = tmp_path / "scene.ckpt"
    save_scene(path, _scene(demo_tiny))
    before = path.read_bytes()
    scene = _scene(demo_tiny)
    scene.history = [{"job": "distill", "source": bad}]
    with pytest.raises(CheckpointError) as e:
        save_scene(path, scene)
    _assert_one_line(e, str(path), "not saved", where)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["scene.ckpt"]


def test_everything_the_validator_accepts_loads_with_weights_only(tmp_path):
    payload = {"t": torch.zeros(2, dtype=torch.bfloat16), "p": torch.nn.Parameter(torch.ones(1)), "i": 3, "f": 1.5,
               "b": False, "n": None, "s": "x", "l": [1, (2, "3")], "size": torch.Size([2, 3]), 7: {"nested": [None]},
               "od": collections.OrderedDict(a=torch.ones(1))}
    atomic_save(tmp_path / "plain.pt", payload)
    again = torch.load(tmp_path / "plain.pt", weights_only=True)
    assert again.keys() == payload.keys() and again["l"] == [1, (2, "3")] and again[7] == {"nested": [None]}


def test_threads_saving_the_same_file_at_once_do_not_collide(tmp_path, demo_tiny, monkeypatch):
    both_writing = threading.Barrier(2, timeout=10)
    real_save = torch.save

    def save_together(payload, f):
        both_writing.wait()  # both threads have their temporary file open before either renames it
        real_save(payload, f)

    monkeypatch.setattr(torch, "save", save_together)
    errors = []

    def save():
        try:
            save_scene(tmp_path / "scene.ckpt", _scene(demo_tiny))
        except CheckpointError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=save) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert load_scene(tmp_path / "scene.ckpt").student["stage"] == "distilled"


def test_the_rename_is_made_durable_by_syncing_the_folder(tmp_path, demo_tiny, monkeypatch):
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(stat.S_ISDIR(os.fstat(fd).st_mode)) or real_fsync(fd))
    save_scene(tmp_path / "scene.ckpt", _scene(demo_tiny))
    assert synced == [False, True]  # the file's data, then the folder holding the new name
