"""The bench's verdicts on issue 5's targets: met, missed, or not measured, from the figures of one run."""

import re

import torch

from trainers.bench.ceiling import share_of_ceiling
from trainers.bench.headline import choose_headline
from trainers.bench.table import print_table
from trainers.bench.targets import check_targets


def verdicts(rows):
    return {row["key"]: row["met"] for row in rows}


def test_cpu_targets_read_the_headline_figures():
    result = {"speedup_vs_nerf": 30.0, "student_matmul_fraction": 0.6,
              "student_tiny_paths": {"200": {"fused_cpu": 150.0, "fused_cpu_team": 95.0}}}
    rows = check_targets(result, torch.device("cpu"))
    assert verdicts(rows) == {"speedup_vs_nerf": True, "student_matmul_fraction": False, "tiny_200_ms": True,
                              "tiny_bytes_share": None, "tiny_100_speedup_vs_grid": None}
    assert rows[1]["measured"] == "60.0%" and rows[1]["goal"] == ">= 70.0%"


def tiny_vs_grid(student_bytes, grid_bytes, renders, paths=None):
    """A CPU bench result holding only what the tiny-student-vs-grid-teacher targets read."""
    result = {"student_tiny_model": {"bytes_on_disk": {"student_tiny": student_bytes, "grid": grid_bytes}},
              "renders": renders}
    if paths is not None:
        result["student_tiny_paths"] = paths
    rows = check_targets(result, torch.device("cpu"))
    return {row["key"]: row for row in rows if row["key"] in ("tiny_bytes_share", "tiny_100_speedup_vs_grid")}


def frames(**ms_by_res):
    return {"frames": {res.lstrip("r"): {"ms_per_frame": ms} for res, ms in ms_by_res.items()}}


def test_the_tiny_student_is_smaller_and_faster_than_the_grid_teacher():
    rows = tiny_vs_grid(1_000_000, 10_000_000, {"student_tiny": frames(r100=80.0), "grid": frames(r100=300.0)},
                        paths={"100": {"fused_cpu": 50.0, "fused_cpu_team": 40.0}})
    assert {key: row["met"] for key, row in rows.items()} == {"tiny_bytes_share": True,
                                                              "tiny_100_speedup_vs_grid": True}
    assert rows["tiny_bytes_share"]["measured"] == "10.0%" and rows["tiny_bytes_share"]["goal"] == "< 100.0%"
    assert rows["tiny_100_speedup_vs_grid"]["measured"] == "7.5x"  # the fastest path: 300 / 40
    assert rows["tiny_100_speedup_vs_grid"]["goal"] == ">= 2.0x"


def test_a_tiny_student_as_large_or_slow_as_the_grid_teacher_misses():
    rows = tiny_vs_grid(10_000_000, 10_000_000, {"student_tiny": frames(r100=200.0), "grid": frames(r100=300.0)})
    assert {key: row["met"] for key, row in rows.items()} == {"tiny_bytes_share": False,
                                                              "tiny_100_speedup_vs_grid": False}
    assert rows["tiny_100_speedup_vs_grid"]["measured"] == "1.5x"  # the plain render: no viewer path measured


def test_the_tiny_student_targets_are_not_measured_without_their_figures():
    no_scene_student = tiny_vs_grid(None, 10_000_000, {"student_tiny": frames(r100=50.0), "grid": frames(r200=900.0)})
    no_grid_teacher = tiny_vs_grid(1_000_000, None, {"student_tiny": frames(r100=50.0)},
                                   paths={"100": {"fused_cpu": 9.0}})
    for rows in (no_scene_student, no_grid_teacher):
        assert [(row["met"], row["measured"]) for row in rows.values()] == [(None, None), (None, None)]
    grid_skipped = tiny_vs_grid(1_000_000, 10_000_000, {"student_tiny": frames(r100=50.0),
                                                        "grid": {"frames": {"100": {"skipped": "too slow"}}}})
    assert grid_skipped["tiny_100_speedup_vs_grid"]["met"] is None and grid_skipped["tiny_bytes_share"]["met"]


def test_the_tiny_student_targets_are_cpu_targets():
    result = {"student_tiny_model": {"bytes_on_disk": {"student_tiny": 1, "grid": 2}},
              "renders": {"student_tiny": frames(r100=1.0), "grid": frames(r100=9.0)}}
    keys = [row["key"] for row in check_targets(result, torch.device("cuda"))]
    assert "tiny_bytes_share" not in keys and "tiny_100_speedup_vs_grid" not in keys


def test_cuda_targets_take_the_fastest_path_and_say_what_was_not_measured():
    result = {
        "student_paper_variants": {"400": {"fp32": {"ms_per_frame": 9.0, "precision": "fp32"},
                                           "bf16_cuda_graph": {"ms_per_frame": 4.2, "precision": "bf16"},
                                           "broken": {"error": "no compiler"}}},
        "training": {"student_paper": {"step_rays_per_s": 2e6}, "student_paper_bf16": {"step_rays_per_s": 6e6}},
        "pseudo_resolution": [100, 100], "pseudo_images_per_s": 500.0,
        "precision_change": {"psnr_change_db": -0.08},
    }
    rows = check_targets(result, torch.device("cuda"))
    assert verdicts(rows) == {"paper_400_ms": True, "distill_rays_per_s": True, "pseudo_400_images_per_s": None,
                              "bf16_psnr_change_db": False}


def paper_renders():
    return {"student_paper": {"flops_per_ray": 1e6, "frames": {"100": {"ms_per_frame": 10.0}}},
            "nerf": {"frames": {"100": {"ms_per_frame": 600.0, "team_ms_per_frame": 500.0}}}}


def test_a_bf16_path_that_costs_the_paper_network_psnr_is_not_the_headline():
    variants = {"100": {"fp32": {"ms_per_frame": 8.0, "precision": "fp32", "flops_per_s": 1.25e12,
                                 "ceiling_flops_per_s": 2e12},
                        "bf16": {"ms_per_frame": 3.0, "precision": "bf16", "flops_per_s": 1e6 * 1e4 / 0.003,
                                 "ceiling_flops_per_s": 8e12}}}
    costly = {"paper_bf16": {"psnr_change_db": -0.2}, "precision_change": {"psnr_change_db": 0.0}}
    choose_headline(costly, paper_renders(), variants, 100, with_nerf=True)
    assert costly["headline_ms_per_frame"] == 8.0 and costly["student_matmul_fraction"] == 1.25e12 / 2e12
    assert costly["speedup_vs_nerf"] == 500.0 / 8.0  # the NeRF's fastest path against the student's
    cheap = {"paper_bf16": {"psnr_change_db": -0.01}, "precision_change": {"psnr_change_db": -3.0}}
    choose_headline(cheap, paper_renders(), variants, 100, with_nerf=True)
    assert cheap["headline_ms_per_frame"] == 3.0 and cheap["headline_precision"] == "bf16"
    assert cheap["student_matmul_fraction"] == variants["100"]["bf16"]["flops_per_s"] / 8e12  # its own ceiling


def test_both_speedup_rows_compare_like_with_like():
    variants = {"fused_cpu": {"100": {"ms_per_frame": 4.0, "flops_per_s": 1.0, "ceiling_flops_per_s": 2.0}}}
    result = {}
    choose_headline(result, paper_renders(), variants, 100, with_nerf=True)
    plain, fastest = result["speedup_rows"]["plain"], result["speedup_rows"]["fastest"]
    assert (plain["student_path"], plain["nerf_path"], plain["speedup"]) == ("Student.forward",
                                                                             "VanillaNerf.forward", 60.0)
    assert fastest["student_path"].startswith("fused CPU path") and fastest["nerf_path"].endswith("chunk_team.py)")
    assert fastest["speedup"] == result["speedup_vs_nerf"] == 125.0


def test_a_share_above_the_ceiling_is_a_measurement_error_never_a_share(capsys):
    variants = {"fused_cpu": {"100": {"ms_per_frame": 4.0, **share_of_ceiling(2.1e11, 2e11)}}}
    renders = paper_renders()
    renders["student_paper"]["frames"]["100"].update(rays_per_s=1e6, **share_of_ceiling(1e12, 0.9e12))
    renders["nerf"].update(flops_per_ray=None)
    renders["nerf"]["frames"]["100"]["rays_per_s"] = 1.7e4
    result = {"device": "cpu", "torch": "x", "dtype": "float32", "quick": True, "ceiling": "note",
              "renders": renders, "speedups": {}, "student_tiny_model": {
                  "source": "tiny preset", "description": "d", "encoding": "frequency",
                  "bytes_on_disk": {"student_tiny": None, "grid": None}},
              "training": {}, "student_paper_variants": variants, "student_tiny_onnx": {"skipped": "not here"}}
    choose_headline(result, result["renders"], variants, 100, with_nerf=True)
    assert result["student_matmul_fraction"] is None and "above its own ceiling" in result["student_matmul_error"]
    result["targets"] = check_targets(result, torch.device("cpu"))
    share_row = next(row for row in result["targets"] if row["key"] == "student_matmul_fraction")
    assert share_row["met"] is None and share_row["error"]
    print_table(result)
    printed = capsys.readouterr().out
    assert "MEASUREMENT ERROR" in printed
    assert all(float(x) <= 100.0 for x in re.findall(r"(\d+(?:\.\d+)?)%", printed)), printed


def test_a_share_above_one_handed_to_the_targets_is_an_error_not_met():
    rows = check_targets({"student_matmul_fraction": 1.05}, torch.device("cpu"))
    assert rows[1]["met"] is None and rows[1]["measured"] is None and rows[1]["error"]
