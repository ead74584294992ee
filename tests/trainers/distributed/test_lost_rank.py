"""A rank that dies makes the others exit non-zero with one clear line within the collective timeout, instead of
hanging; the jobs that run in one process refuse to start N copies under torchrun."""

import dataclasses
import time

import pytest

from tests.trainers.conftest import scene_and_preset
from tests.trainers.distributed.launch import SCENE_FLAGS, config_flags, start_ranks, torchrun, wait_for_progress

TIMEOUT_S = 20  # --dist-timeout: the longest a rank waits for the others


@pytest.mark.parametrize("killed", [1, 0], ids=["rank 1 dies", "rank 0 dies"])
def test_a_killed_rank_makes_the_other_exit_non_zero_with_a_clear_message(taught_scene, tmp_path, killed):
    folder, preset = scene_and_preset(taught_scene, tmp_path)
    endless = dataclasses.replace(preset.distill, steps=1_000_000, batch_rays=256, hard_rays=0, val_every=0,
                                  save_every=1_000_000)
    (folder / "scene.metrics.jsonl").unlink()  # (the copied scene's records)
    ranks = start_ranks(["distill", "--out", str(folder / "scene.ckpt"), *SCENE_FLAGS, "--quiet",
                         "--dist-timeout", str(TIMEOUT_S), *config_flags(endless, "distill")])
    wait_for_progress(ranks, folder / "scene.metrics.jsonl", "distill")
    ranks[killed].kill()  # SIGKILL: no goodbye
    began = time.monotonic()
    survivor = ranks[1 - killed]
    try:
        _, err = survivor.communicate(timeout=TIMEOUT_S + 10)
    except Exception:
        survivor.kill()
        pytest.fail("the surviving rank hung")
    assert time.monotonic() - began < TIMEOUT_S, "it waited out the whole timeout for a rank that had died"
    assert survivor.returncode == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "error: another rank stopped answering while" in lines[0], err
    assert "run the same command with --resume" in lines[0] and "Traceback" not in err
    ranks[killed].wait()


def test_the_teacher_under_torchrun_refuses_clearly(tmp_path):
    result = torchrun(["teacher", "--out", str(tmp_path / "scene.ckpt"), *SCENE_FLAGS], timeout=60)
    assert result.returncode != 0
    said = [line for line in result.stderr.splitlines() if "r2l-train" in line and "error:" in line]
    assert len(said) == 1, result.stderr  # once, by rank 0
    assert "`teacher` runs in one process only" in said[0] and "without torchrun" in said[0]
    assert not (tmp_path / "scene.ckpt").exists()
