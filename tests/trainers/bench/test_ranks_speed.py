"""The one-process-against-several bench: a real measurement of the tiny preset's step on one process, and the
table it prints (the torchrun layouts are run by `python -m trainers.bench.ranks_speed`, minutes on a CPU)."""

import pytest

from trainers.bench.ranks_speed import measure, print_table

from tests.trainers.conftest import scene_and_preset


def test_one_process_times_the_tiny_presets_step(taught_scene, tmp_path):
    folder, _ = scene_and_preset(taught_scene, tmp_path)
    result = measure(folder / "scene.ckpt", steps=2, warmup=1)
    assert result["processes"] == 1 and result["steps"] == 2 and "allreduce_ms" not in result
    assert 0 < result["ms_per_step"] < 60_000
    assert result["rays_per_s"] == pytest.approx((4096 + 512) * 1000 / result["ms_per_step"])  # the tiny batch


def test_the_table_names_the_layouts_and_the_share_of_messages(capsys):
    one = {"ms_per_step": 100.0, "rays_per_s": 46_080.0}
    two = {"ms_per_step": 80.0, "rays_per_s": 57_600.0, "allreduce_ms": 3.0, "agree_ms": 0.5,
           "agreements_per_step": 4, "gradient_mb": 2.9}
    print_table([("1 process x 2 threads", one), ("2 processes x 1 thread", two)], load=0.5)
    out = capsys.readouterr().out
    assert "| 2 processes x 1 thread | 80.0 | 57,600 | 1.25x |" in out
    assert "gradient all-reduce 3.00 ms (2.9 MB), 4 stop-flag agreements x 0.500 ms = 2.00 ms per step: 6% of the step" in out
    assert "load average before the runs: 0.50" in out
