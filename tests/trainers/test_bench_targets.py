"""The bench's verdicts on issue 5's targets: met, missed, or not measured, from the figures of one run."""

import torch

from trainers.bench import choose_headline
from trainers.bench_targets import check_targets


def verdicts(rows):
    return {row["key"]: row["met"] for row in rows}


def test_cpu_targets_read_the_headline_figures():
    result = {"speedup_vs_nerf": 30.0, "student_matmul_fraction": 0.6,
              "student_tiny_paths": {"200": {"fused_cpu": 150.0, "fused_cpu_team": 95.0}}}
    rows = check_targets(result, torch.device("cpu"))
    assert verdicts(rows) == {"speedup_vs_nerf": True, "student_matmul_fraction": False, "tiny_200_ms": True}
    assert rows[1]["measured"] == "60.0%" and rows[1]["goal"] == ">= 70.0%"


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


def test_a_bf16_path_that_costs_psnr_is_not_the_headline():
    renders = {"student_paper": {"flops_per_ray": 1e6, "frames": {"100": {"ms_per_frame": 10.0}}},
               "nerf": {"frames": {"100": {"ms_per_frame": 600.0}}}}
    variants = {"100": {"fp32": {"ms_per_frame": 8.0, "precision": "fp32"},
                        "bf16": {"ms_per_frame": 3.0, "precision": "bf16"}}}
    costly = {"matmul_flops_per_s": 1e12, "matmul_flops_per_s_bf16": 4e12, "precision_change": {"psnr_change_db": 0.2}}
    choose_headline(costly, renders, variants, 100, with_nerf=True)
    assert costly["headline_ms_per_frame"] == 8.0 and costly["speedup_vs_nerf"] == 75.0
    assert costly["student_matmul_fraction"] == 1e6 * 100 * 100 / 0.008 / 1e12
    cheap = {"matmul_flops_per_s": 1e12, "matmul_flops_per_s_bf16": 4e12, "precision_change": {"psnr_change_db": 0.01}}
    choose_headline(cheap, renders, variants, 100, with_nerf=True)
    assert cheap["headline_ms_per_frame"] == 3.0 and cheap["headline_precision"] == "bf16"
    assert cheap["student_matmul_fraction"] == 1e6 * 100 * 100 / 0.003 / 4e12  # against the bf16 rate
