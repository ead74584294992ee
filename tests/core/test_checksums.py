"""scene.ckpt verifies itself: checksums of every part are saved with it and checked on load; a damaged part is
named in one line, a file from before checksums opens with a one-line note, NaN weights are refused."""

import shutil
import time
from pathlib import Path

import pytest
import torch

from r2l_viewer.core import checkpoint
from r2l_viewer.core.assets import demo_checkpoint_path
from r2l_viewer.core.checkpoint import DAMAGED, UNCHECKED_NOTE, CheckpointError, load_scene
from r2l_viewer.core.checksums import CHECKSUMS_KEY, part_checksums, verify_checksums
from r2l_viewer.core.models import ModelRecordError
from r2l_viewer.core.plain_files import load_payload

from tests.damaged_scenes import damage_part, with_nan

OLD_CHECKPOINT = Path(__file__).resolve().parents[1] / "data" / "frequency-student-v1.ckpt"  # written before checksums


def test_a_saved_scene_carries_checksums_of_every_tensor_and_section(damageable_scene):
    payload = load_payload(damageable_scene)
    parts = payload[CHECKSUMS_KEY]["parts"]
    assert {"scene", "cameras", "teacher", "student", "history"} <= parts.keys()
    assert len([p for p in parts if p.startswith("student.weights.")]) == len(payload["student"]["weights"])
    assert verify_checksums(payload) is True
    assert load_scene(damageable_scene).unchecked is False


@pytest.mark.parametrize("part", ["teacher", "student", "metadata", "cameras"])
def test_one_flipped_byte_in_any_part_is_refused_naming_the_file_and_the_part(damageable_scene, part):
    named = damage_part(damageable_scene, part)
    with pytest.raises(CheckpointError) as e:
        load_scene(damageable_scene)
    assert str(e.value) == DAMAGED.format(origin=damageable_scene, part=named)
    assert "\n" not in str(e.value)


def test_a_value_changed_in_a_model_record_is_caught(damageable_scene):
    payload = load_payload(damageable_scene)
    payload["student"]["config"]["width"] = 17  # as a flipped digit in the pickle would
    with pytest.raises(CheckpointError, match="damaged: the student's settings changed"):
        checkpoint.SceneCheckpoint.from_payload(payload, str(damageable_scene))


def test_a_file_saved_before_checksums_opens_with_a_note_given_once(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(checkpoint, "_noted_unchecked", set())
    old = Path(shutil.copyfile(OLD_CHECKPOINT, tmp_path / "old.ckpt"))
    assert CHECKSUMS_KEY not in load_payload(old)
    first, again = load_scene(old), load_scene(old)
    assert first.unchecked and again.unchecked and first.student["stage"]
    assert capsys.readouterr().err == UNCHECKED_NOTE.format(origin=old) + "\n"


def test_saving_an_old_file_again_adds_checksums_and_changes_no_weight(tmp_path):
    old = load_scene(OLD_CHECKPOINT)
    checkpoint.save_scene(tmp_path / "again.ckpt", old)
    again = load_scene(tmp_path / "again.ckpt")
    assert not again.unchecked
    for name, tensor in old.student["weights"].items():
        assert torch.equal(tensor, again.student["weights"][name])


def test_the_check_costs_well_under_a_second_on_the_bundled_demo():
    payload = load_payload(demo_checkpoint_path())
    start = time.perf_counter()
    part_checksums(payload)
    assert time.perf_counter() - start < 0.5


def test_the_bundled_demo_carries_checksums_that_match():
    assert verify_checksums(load_payload(demo_checkpoint_path())) is True


@pytest.mark.parametrize("role,name", [("student", "grids.planes.0"), ("teacher", "voxels.density")])
def test_nan_weights_are_refused_when_the_model_is_built(damageable_scene, role, name):
    with_nan(damageable_scene, role, name)
    scene = load_scene(damageable_scene)  # the file itself is intact: its checksums match the NaN it holds
    with pytest.raises(ModelRecordError) as e:
        scene.build_student() if role == "student" else scene.build_teacher()
    text = str(e.value)
    assert text.startswith(f"{damageable_scene}: the ") and f"non-finite values (NaN or Inf) in {name}" in text
    assert "\n" not in str(e.value)
