"""`r2l-bench` end to end at a tiny resolution: every figure the issue asks for is there and consistent."""

import dataclasses
import json
import re

import pytest
import torch

from trainers.bench.run import describe_student, run_bench
from trainers.bench.table import print_table
from trainers.cli.bench import main
from trainers.bench.ceiling import LayerProducts, gemm_ceiling, layer_shapes
from trainers.bench.measure import frame_times
from trainers.jobs.distill import student_config_for
from r2l_viewer.core.model_text import saved_bytes
from trainers.presets import get_preset
from trainers.storage.scene_io import model_entry
from r2l_viewer.core.checkpoint import load_scene, save_scene
from r2l_viewer.core.chunk_team import ChunkTeam
from r2l_viewer.core.metrics import flops_per_ray
from r2l_viewer.core.models import Student, StudentConfig

from tests.trainers.conftest import copy_scene

SMALL_GRID_STUDENT = StudentConfig(points_per_ray=4, encoding="grid", grid_planes=(8, 16), grid_channels=2, width=16,
                                   blocks=1)


def test_the_ceiling_runs_exactly_the_students_matrix_products():
    student = Student(StudentConfig())
    shapes = layer_shapes(student)
    assert len(shapes) == 88 and shapes[0] == (1008, 256) and shapes[-1] == (256, 3)
    assert LayerProducts(shapes, rows=64, device=torch.device("cpu")).flops / 64 == flops_per_ray(student)


def test_the_ceiling_is_measured_on_torchs_threads_and_on_a_team():
    student = Student(StudentConfig(points_per_ray=4, frequencies=2, width=32, blocks=2))
    alone = gemm_ceiling(student, 256, torch.device("cpu"), seconds=0.05)
    team = ChunkTeam(2)
    try:
        together = gemm_ceiling(student, 256, torch.device("cpu"), team, seconds=0.05)
    finally:
        team.close()
    assert 1e7 < alone < 1e13 and 1e7 < together < 1e13


def printed_shares(text: str) -> list[float]:
    return [float(x) for x in re.findall(r"(\d+(?:\.\d+)?)%", text)]


def test_estimated_frames_scale_the_time_of_a_share_of_the_rays():
    student = Student(StudentConfig(points_per_ray=4, frequencies=2, width=16, blocks=1))
    full, estimated = frame_times(student, 32, torch.device("cpu"), repeats=3)
    part, was_estimated = frame_times(student, 32, torch.device("cpu"), repeats=3, ray_fraction=0.25)
    assert not estimated and was_estimated and len(full) == len(part) == 3
    assert all(t > 0 for t in full + part)


def test_bench_reports_every_headline_figure(taught_scene, capsys):
    folder, _, _ = taught_scene
    result = run_bench(torch.device("cpu"), quick=True, scene_path=folder / "scene.ckpt", resolutions=(16,))
    assert result["headline_resolution"] == [16, 16]
    rows = result["speedup_rows"]
    assert rows["plain"]["student_path"] == "Student.forward" and rows["plain"]["nerf_path"] == "VanillaNerf.forward"
    assert rows["fastest"]["student_path"] == result["headline_path"]
    assert rows["fastest"]["nerf_ms_per_frame"] <= rows["plain"]["nerf_ms_per_frame"]
    assert result["speedup_vs_nerf"] == rows["fastest"]["speedup"] > 1.0
    fraction = result["student_matmul_fraction"]
    assert (0.0 < fraction <= 1.0) if fraction is not None else result["student_matmul_error"]
    for row in result["renders"]["student_paper"]["frames"].values():
        assert row["ceiling_flops_per_s"] > 0 and ("measurement_error" in row or row["matmul_fraction"] <= 1.0)
    assert set(result["renders"]) == {"student_paper", "student_tiny", "nerf", "grid"}
    assert result["renders"]["student_paper"]["flops_per_ray"] == pytest.approx(11.79e6, rel=1e-3)
    assert result["renders"]["nerf"]["frames"]["16"]["estimated_from_ray_share"] == 0.05
    assert result["renders"]["grid"]["flops_per_ray"] > 0
    for model in ("student_paper", "student_tiny"):
        t = result["training"][model]
        assert t["forward_rays_per_s"] > t["step_rays_per_s"] > 0
    assert result["pseudo_images_per_s"] > 0
    sweep = result["student_paper_variants"]["chunk_sweep"]
    assert str(sweep["best_chunk"]) in sweep["ms_per_frame"]
    assert "precision_change" not in result  # the scene has no student yet: nothing to compare
    tiny = result["student_tiny_paths"]["16"]
    assert tiny["fused_cpu"] > 0 and (torch.get_num_threads() < 2 or tiny["fused_cpu_team"] > 0)
    crossing = result["student_tiny_crossing"]["16"]  # the tiny preset's student holds the teacher's occupancy
    assert 0.0 < crossing["network_share"] < 1.0 and crossing["every_ray_ms"] > 0  # the demo's objects and sky
    plain = result["renders"]["student_tiny"]["frames"]["16"]  # its FLOP/s count only the rays through the network
    assert plain["network_share"] == crossing["network_share"]
    assert plain["flops_per_s"] == pytest.approx(result["renders"]["student_tiny"]["flops_per_ray"]
                                                 * crossing["network_share"] * plain["rays_per_s"])
    fastest = min([result["renders"]["student_paper"]["frames"]["16"]["ms_per_frame"]]
                  + [row["16"]["ms_per_frame"] for key, row in result["student_paper_variants"].items()
                     if key.startswith("fused_cpu")])
    assert result["headline_ms_per_frame"] == fastest
    assert [t["key"] for t in result["targets"]] == ["speedup_vs_nerf", "student_matmul_fraction", "tiny_200_ms",
                                                     "tiny_bytes_share", "tiny_100_speedup_vs_grid"]
    assert [t["met"] for t in result["targets"][2:]] == [None, None, None]  # no 200 or 100 frame, no scene student
    facts = result["student_tiny_model"]
    assert facts["source"] == "tiny preset (untrained)"
    assert facts["encoding"] == get_preset("tiny").distill.student.encoding
    assert facts["bytes_on_disk"] == {"student_tiny": None,
                                      "grid": saved_bytes(load_scene(folder / "scene.ckpt").teacher["weights"])}
    json.dumps(result)  # plain values only
    print_table(result)
    printed = capsys.readouterr().out
    assert "plain forward vs plain forward" in printed and "fastest path vs fastest path" in printed
    assert "of this view's rays cross the student's occupancy" in printed and "every ray through the network" in printed
    assert max(printed_shares(printed)) <= 100.0, printed


def scene_with_grid_student(taught_scene, tmp_path):
    """A copy of the taught scene whose checkpoint holds a small finetuned grid-encoded student."""
    folder = copy_scene(taught_scene[0], tmp_path / "s")
    scene = load_scene(folder / "scene.ckpt")
    torch.manual_seed(0)
    student = Student(student_config_for(SMALL_GRID_STUDENT, scene.meta, normalize=True))
    scene.student = model_entry(student, stage="finetuned", step=30, complete=True, teacher_id=scene.teacher["id"])
    save_scene(folder / "scene.ckpt", scene)
    return folder


def grid_tiny_preset(name):
    """The named preset with the tiny student swapped for a small grid-encoded one."""
    preset = get_preset(name)
    preset.distill = dataclasses.replace(preset.distill, student=SMALL_GRID_STUDENT)
    return preset


def test_bench_measures_a_grid_encoded_tiny_student(taught_scene, tmp_path, monkeypatch, capsys):
    folder = scene_with_grid_student(taught_scene, tmp_path)
    monkeypatch.setattr("trainers.bench.run.get_preset", grid_tiny_preset)  # the trained one too
    result = run_bench(torch.device("cpu"), quick=True, scene_path=folder / "scene.ckpt", resolutions=(16,))
    facts = result["student_tiny_model"]
    assert facts["source"] == "scene (finetuned)" and facts["encoding"] == "grid"
    scene = load_scene(folder / "scene.ckpt")
    sizes = facts["bytes_on_disk"]
    assert sizes == {"student_tiny": saved_bytes(scene.student["weights"]), "grid": saved_bytes(scene.teacher["weights"])}
    assert result["renders"]["student_tiny"]["frames"]["16"]["ms_per_frame"] > 0
    assert result["student_tiny_paths"]["16"]["fused_cpu"] > 0
    assert result["training"]["student_tiny"]["encoding"] == "grid"
    assert result["training"]["student_tiny"]["step_rays_per_s"] > 0
    assert abs(result["precision_change"]["psnr_change_db"]) < 0.5
    targets = {t["key"]: t for t in result["targets"]}
    assert targets["tiny_bytes_share"]["met"] is True
    assert targets["tiny_bytes_share"]["measured"] == f"{sizes['student_tiny'] / sizes['grid'] * 100:.1f}%"
    assert targets["tiny_100_speedup_vs_grid"]["met"] is None  # no 100x100 frame in this run
    json.dumps(result)
    print_table(result)
    printed = capsys.readouterr().out
    assert "student_tiny: scene (finetuned), grid encoding (planes 8/16 x 2 channels)" in printed
    assert f"tiny student {sizes['student_tiny'] / 1e6:.2f} MB, grid teacher {sizes['grid'] / 1e6:.2f} MB" in printed
    assert "smaller on disk than the grid teacher" in printed
    assert max(printed_shares(printed)) <= 100.0, printed
    onnx_row = result["student_tiny_onnx"]  # the scene's own grid student through onnxruntime, next to torch
    assert onnx_row["encoding"] == "grid" and onnx_row["frames"]["16"]["max_abs_error"] <= 1e-4
    assert "tiny student at 16, onnxruntime" in printed


@pytest.mark.parametrize("args,expected", [
    (["--resolutions", "big"], "--resolutions takes sizes like 100,200,400, got 'big'"),
    (["--resolutions", "0"], "--resolutions takes sizes from 8 to 2048 pixels, got 0"),
    (["--resolutions", "100,-5"], "--resolutions takes sizes from 8 to 2048 pixels, got -5"),
    (["--resolutions", "100000"], "--resolutions takes sizes from 8 to 2048 pixels, got 100000"),
    (["--resolutions", "100,,200"], "--resolutions takes sizes like 100,200,400, got '100,,200'"),
    (["--resolutions", "100,100"], "--resolutions names a size twice"),
    (["--pseudo-size", "2"], "--pseudo-size takes sizes from 8 to 2048 pixels, got 2"),
    (["--pseudo-size", "100000"], "--pseudo-size takes sizes from 8 to 2048 pixels, got 100000"),
])
def test_bench_rejects_bad_sizes_in_one_line(capsys, args, expected):
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("r2l-bench: error: ") and expected in err[0], err


def test_bf16_costs_the_student_little_psnr_against_its_teacher(taught_scene):
    from r2l_viewer.core.checkpoint import load_scene
    from trainers.bench.variants import precision_change

    teacher = load_scene(taught_scene[0] / "scene.ckpt").build_teacher(torch.device("cpu"))
    torch.manual_seed(0)
    student = Student(StudentConfig(points_per_ray=4, frequencies=2, width=16, blocks=1, near=2.0, far=6.0)).eval()
    change = precision_change(student, teacher, torch.device("cpu"), 16)
    assert change["resolution"] == [16, 16] and 0.0 < change["fp32_psnr"] < 60.0
    assert change["psnr_change_db"] == pytest.approx(change["bf16_psnr"] - change["fp32_psnr"])
    assert abs(change["psnr_change_db"]) < 0.5  # bf16 autocast on the CPU barely moves it


def test_the_bench_says_how_the_tiny_presets_student_places_its_points():
    described = describe_student(get_preset("tiny").distill.student)
    assert "points in the teacher's occupancy (64^3, at u^1.5 of its span)" in described
    even = dataclasses.replace(get_preset("tiny").distill.student, point_spacing=1.0)
    assert "points in the teacher's occupancy (64^3)," in describe_student(even)
