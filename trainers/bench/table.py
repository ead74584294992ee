"""`r2l-bench`'s table: one run's figures as the lines a person reads."""

from __future__ import annotations

from trainers.bench.onnx_speed import print_onnx_rows
from trainers.bench.targets import print_targets


def print_table(result: dict) -> None:
    print(f"device: {result['device']}  torch {result['torch']}  {result['dtype']}"
          f"{'  (quick)' if result['quick'] else ''}")
    print(f"ceiling: {result['ceiling']}")
    print(f"{'model':<15}{'res':>5}{'ms/frame':>11}{'rays/s':>12}{'MFLOP/ray':>11}{'GFLOP/s':>9}{'ceiling':>9}"
          f"{'% ceiling':>11}")
    for name, entry in result["renders"].items():
        flops = entry["flops_per_ray"]
        for res, row in entry["frames"].items():
            if "skipped" in row:
                print(f"{name:<15}{res:>5}  skipped: {row['skipped']}")
                continue
            note = "  (estimated from a share of the rays)" if "estimated_from_ray_share" in row else ""
            print(f"{name:<15}{res:>5}{row['ms_per_frame']:>11.1f}{row['rays_per_s']:>12,.0f}"
                  f"{(flops or 0) / 1e6:>11.3f}{rate_columns(row)}{note}")
    print_speedups(result)
    fraction = result["student_matmul_fraction"]
    share = (f"{fraction * 100:.1f}% of its ceiling" if fraction is not None
             else f"MEASUREMENT ERROR ({result['student_matmul_error']})" if result.get("student_matmul_error")
             else "ceiling not measured")
    rates = (f" ({result['headline_flops_per_s'] / 1e9:.1f} GFLOP/s, ceiling "
             f"{result['headline_ceiling_flops_per_s'] / 1e9:.1f})" if "headline_flops_per_s" in result else "")
    print(f"headline ({result['headline_path']}): {share}{rates}")
    print_tiny_student(result["student_tiny_model"])
    for name, t in result["training"].items():
        encoding = f", {t['encoding']} encoding" if "encoding" in t else ""
        print(f"training {name} (batch {t['batch_rays']}{encoding}): {t['step_rays_per_s']:,.0f} rays/s per step "
              f"(forward {t['forward_rays_per_s']:,.0f}, backward {t['backward_rays_per_s']:,.0f}, "
              f"optimizer {t['optimizer_rays_per_s']:,.0f})")
    print_variants(result)
    print_onnx_rows(result["student_tiny_onnx"])
    if "pseudo_images_per_s" in result:
        h, w = result["pseudo_resolution"]
        print(f"pseudo data with the grid teacher: {result['pseudo_images_per_s']:.1f} images/s at {h}x{w}")
    print_targets(result["targets"])


def rate_columns(row: dict) -> str:
    """GFLOP/s, the path's ceiling and the share of it (a share above 100% is a measurement error, never printed
    as a share)."""
    if "flops_per_s" not in row:
        return f"{'-':>9}{'-':>9}{'-':>11}"
    ceiling = f"{row['ceiling_flops_per_s'] / 1e9:>9.1f}" if "ceiling_flops_per_s" in row else f"{'-':>9}"
    share = (f"{row['matmul_fraction'] * 100:>10.1f}%" if "matmul_fraction" in row
             else f"{'MEAS. ERROR':>12}" if "measurement_error" in row else f"{'-':>11}")
    return f"{row['flops_per_s'] / 1e9:>9.1f}{ceiling}{share}"


def print_speedups(result: dict) -> None:
    """The plain-vs-plain speed-ups per teacher and resolution, then the two equal-terms rows over the NeRF."""
    for teacher, by_res in result["speedups"].items():
        text = ", ".join(f"{res}: {value:.1f}x" for res, value in by_res.items())
        print(f"paper student speed-up over {teacher}, plain forward vs plain forward: {text}")
    rows = result.get("speedup_rows")
    if not rows:
        print("speed-up over the vanilla NeRF: NeRF not measured")
        return
    for key, title in (("plain", "plain forward vs plain forward"), ("fastest", "fastest path vs fastest path")):
        row = rows[key]
        res = "x".join(map(str, row["resolution"]))
        print(f"speed-up over the vanilla NeRF at {res}, {title}: {row['speedup']:.1f}x "
              f"(student {row['student_path']} {row['student_ms_per_frame']:.1f} ms; "
              f"NeRF {row['nerf_path']} {row['nerf_ms_per_frame']:.1f} ms; {row['rays']})")


def print_tiny_student(facts: dict) -> None:
    """Which tiny student the rows measure (MFLOP/ray counts matrix products only: not a grid's reads), and sizes."""
    note = "; MFLOP/ray leaves out its feature reads" if facts["encoding"] == "grid" else ""
    if "occupancy" in facts["description"]:
        note += ("; MFLOP/ray is per ray through its network, GFLOP/s counts only the rays that cross its occupancy "
                 "(the share printed with the viewer's paths)")
    print(f"student_tiny: {facts['source']}, {facts['description']}{note}")
    sizes = facts["bytes_on_disk"]
    text = ", ".join(f"{label} {sizes[key] / 1e6:.2f} MB" if sizes[key] is not None else f"{label} not in the scene"
                     for key, label in (("student_tiny", "tiny student"), ("grid", "grid teacher")))
    print(f"on disk (weights in the scene checkpoint): {text}")


def print_variants(result: dict) -> None:
    variants = result["student_paper_variants"]
    if "chunk_sweep" in variants:
        sweep = variants["chunk_sweep"]
        text = ", ".join(f"{c}: {ms:.0f} ms" for c, ms in sweep["ms_per_frame"].items())
        print(f"paper student, rays per call ({text}): best {sweep['best_chunk']}")
    for res, row in variants.get("fused_cpu", {}).items():
        print(f"paper student, fused CPU path at {res}: {row['ms_per_frame']:.1f} ms/frame, "
              f"GFLOP/s, ceiling, share:{rate_columns(row)}")
    for res, row in variants.get("fused_cpu_team", {}).items():
        print(f"paper student, fused CPU path on {row['workers']} single-threaded workers at {res}: "
              f"{row['ms_per_frame']:.1f} ms/frame, GFLOP/s, ceiling, share:{rate_columns(row)}")
    for res, row in result.get("student_tiny_paths", {}).items():
        text = ", ".join(f"{k} {v:.1f} ms" for k, v in row.items())
        print(f"tiny student at {res} (the viewer's paths): {text}")
        crossing = result.get("student_tiny_crossing", {}).get(res)
        if crossing:
            every = crossing.get("every_ray_ms")
            print(f"  {crossing['network_share']:.0%} of this view's rays cross the student's occupancy and run its "
                  "network, the rest show the background" + (f"; every ray through the network (the object filling "
                  f"the frame): {every:.1f} ms" if every else ""))
    for label in ("eager_static", "compiled"):
        for res, row in variants.get(label, {}).items():
            print(f"paper student {label} at {res}: {row['ms_per_frame']:.1f} ms/frame (warm-up {row['warmup_s']:.0f} s)")
    for res, row in variants.items():
        if res.isdigit():
            text = ", ".join(f"{k} {v['ms_per_frame']:.2f} ms (GFLOP/s, ceiling, share:{rate_columns(v)})"
                             if "ms_per_frame" in v else f"{k} failed: {v['error']}" for k, v in row.items())
            print(f"paper student at {res}: {text}")
    if "precision_change" in result:
        p = result["precision_change"]
        print(f"scene student vs teacher: fp32 {p['fp32_psnr']:.3f} dB, bf16 {p['bf16_psnr']:.3f} dB "
              f"(change {p['psnr_change_db']:+.3f} dB)")
    if "paper_bf16" in result:
        p = result["paper_bf16"]
        print(f"paper student, bf16 against its own fp32 render: {p['bf16_vs_fp32_psnr']:.1f} dB, a change of "
              f"{p['psnr_change_db']:+.3f} dB at the paper's 32.53 dB (decides whether bf16 may be its headline)")
