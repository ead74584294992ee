"""`r2l-bench`: student and teachers side by side on one device: latency, rays/s, FLOPs, share of the matmul
rate, speed-ups; training and pseudo-data throughput. Prints a table, or one JSON object with --json."""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path

import torch

from r2l_viewer.core.assets import demo_checkpoint_path
from r2l_viewer.core.checkpoint import CheckpointError, load_scene
from r2l_viewer.core.device import DeviceError, describe_device, resolve_device
from r2l_viewer.core.metrics import flops_per_ray
from r2l_viewer.core.models import NerfConfig, Student, StudentConfig, VanillaNerf, parameter_count

from .bench_measure import bench_view, frame_times, matmul_rate, median, pseudo_throughput, training_throughput
from .bench_variants import precision_change, render_variants
from .evaluate import counted_flops_per_ray
from .presets import get_preset

DEFAULT_SCENE = demo_checkpoint_path()
RESOLUTIONS = (100, 200, 400)
CPU_SECONDS_LIMIT = 150.0  # a model/resolution whose measured frames would take longer than this is skipped on CPU


def build_models(scene_path: Path | None, device) -> tuple[dict, object]:
    """The paper-size student, the tiny student, the vanilla NeRF and (from a scene checkpoint) the grid teacher."""
    models = {
        "student_paper": Student(StudentConfig()),
        "student_tiny": Student(get_preset("tiny").distill.student),
        "nerf": VanillaNerf(NerfConfig()),
    }
    scene = None
    if scene_path is not None:
        try:
            scene = load_scene(scene_path)
        except CheckpointError as exc:
            print(f"r2l-bench: no grid teacher measured ({exc})", file=sys.stderr)
    if scene is not None and scene.teacher is not None and scene.teacher["kind"] == "grid":
        models["grid"] = scene.build_teacher(device)
        if scene.student is not None:
            models["student_tiny"] = scene.build_student(device)
    return {k: m.to(device).eval() for k, m in models.items()}, scene


def plan(name: str, resolution: int, device, quick: bool) -> tuple[str, float, int]:
    """('run' | 'estimate' | 'skip', share of rays rendered, repeats) for one model at one resolution."""
    repeats = 5
    if device.type == "cuda":
        return "run", 1.0, 20
    if name == "nerf":
        if resolution > 100:
            return "skip", 0.0, 0
        return ("estimate", 0.05, repeats) if quick else ("run", 1.0, repeats)
    if quick and name == "student_paper" and resolution == 400:
        return "estimate", 0.25, repeats
    return "run", 1.0, repeats


def measure_renders(models: dict, device, resolutions, quick: bool, matmul: float) -> dict:
    results = {}
    for name, model in models.items():
        flops = flops_per_ray(model, n_rays=256) if name != "grid" else None
        entry = {"params": parameter_count(model), "flops_per_ray": flops, "frames": {}}
        for res in resolutions:
            action, fraction, repeats = plan(name, res, device, quick)
            if action == "skip":
                entry["frames"][str(res)] = {"skipped": "would take over a few minutes per frame on this device"}
                continue
            times, estimated = frame_times(model, res, device, repeats, ray_fraction=fraction)
            ms = median(times)
            row = {"ms_per_frame": ms, "rays_per_s": res * res / (ms / 1000.0), "repeats": repeats}
            if estimated:
                row["estimated_from_ray_share"] = fraction
            if flops:
                row["flops_per_s"] = flops * row["rays_per_s"]
                row["matmul_fraction"] = row["flops_per_s"] / matmul
            entry["frames"][str(res)] = row
            print(f"  measured {name} at {res}x{res}: {ms:.1f} ms", file=sys.stderr)
        results[name] = entry
    if "grid" in models:  # its cost depends on the rays (empty space is skipped): count it on a real view
        pose, intr = bench_view(resolutions[0])
        results["grid"]["flops_per_ray"] = counted_flops_per_ray(models["grid"], pose, intr, device)
    return results


def speedups(renders: dict, resolutions) -> dict:
    """The paper-size student's speed-up over each teacher at each resolution both were measured at."""
    out = {}
    student = renders["student_paper"]["frames"]
    for teacher in ("nerf", "grid"):
        if teacher not in renders:
            continue
        for res in resolutions:
            s, t = student.get(str(res), {}), renders[teacher]["frames"].get(str(res), {})
            if "ms_per_frame" in s and "ms_per_frame" in t:
                out.setdefault(teacher, {})[str(res)] = t["ms_per_frame"] / s["ms_per_frame"]
    return out


def run_bench(device, quick: bool, scene_path: Path | None, resolutions=RESOLUTIONS) -> dict:
    torch.manual_seed(0)
    matmul = matmul_rate(device)
    print(f"  matmul: {matmul / 1e9:.1f} GFLOP/s", file=sys.stderr)
    models, scene = build_models(scene_path, device)
    renders = measure_renders(models, device, resolutions, quick, matmul)
    ups = speedups(renders, resolutions)
    headline = next((r for r in resolutions if str(r) in ups.get("nerf", {})), None)
    paper_row = renders["student_paper"]["frames"].get(str(headline or resolutions[0]), {})
    training = {
        "student_paper": training_throughput(models["student_paper"], device, 4096 if device.type == "cpu" else 65536, 3 if quick else 10),
        "student_tiny": training_throughput(Student(get_preset("tiny").distill.student).to(device), device, 4096, 5 if quick else 20),
    }
    result = {
        "device": describe_device(device),
        "torch": torch.__version__,
        "dtype": "float32",
        "python": platform.python_version(),
        "quick": quick,
        "matmul_flops_per_s": matmul,
        "renders": renders,
        "speedups": ups,
        "speedup_vs_nerf": ups.get("nerf", {}).get(str(headline)) if headline else None,
        "student_matmul_fraction": paper_row.get("matmul_fraction"),
        "headline_resolution": [headline, headline] if headline else None,
        "training": training,
    }
    variants = render_variants(models["student_paper"], device, resolutions, quick)
    result["student_paper_variants"] = variants
    fused = variants.get("fused_cpu", {}).get(str(headline or resolutions[0]))
    flops = renders["student_paper"]["flops_per_ray"]
    if fused and fused["ms_per_frame"] < paper_row.get("ms_per_frame", float("inf")):
        # the viewer renders with the fused CPU path: the headline figures are that path's
        res = headline or resolutions[0]
        fused_rate = res * res / (fused["ms_per_frame"] / 1000.0)
        result["student_matmul_fraction"] = flops * fused_rate / matmul
        if headline:
            result["speedup_vs_nerf"] = renders["nerf"]["frames"][str(headline)]["ms_per_frame"] / fused["ms_per_frame"]
        result["headline_path"] = "fused CPU path (r2l_viewer/core/fast_student.py)"
    else:
        result["headline_path"] = "Student.forward"
    if "grid" in models and scene.student is not None:
        result["precision_change"] = precision_change(models["student_tiny"], models["grid"], device, resolutions[0])
    if "grid" in models:
        result["pseudo_images_per_s"] = pseudo_throughput(models["grid"], scene.meta, device, 5 if quick else 20)
        result["pseudo_resolution"] = [scene.meta.intrinsics.height, scene.meta.intrinsics.width]
    return result


def print_table(result: dict) -> None:
    print(f"device: {result['device']}  torch {result['torch']}  {result['dtype']}  "
          f"matmul {result['matmul_flops_per_s'] / 1e9:.1f} GFLOP/s{'  (quick)' if result['quick'] else ''}")
    print(f"{'model':<15}{'res':>5}{'ms/frame':>11}{'rays/s':>12}{'MFLOP/ray':>11}{'% matmul':>10}")
    for name, entry in result["renders"].items():
        flops = entry["flops_per_ray"]
        for res, row in entry["frames"].items():
            if "skipped" in row:
                print(f"{name:<15}{res:>5}  skipped: {row['skipped']}")
                continue
            share = f"{row['matmul_fraction'] * 100:9.1f}%" if "matmul_fraction" in row else f"{'-':>10}"
            note = "  (estimated from a share of the rays)" if "estimated_from_ray_share" in row else ""
            print(f"{name:<15}{res:>5}{row['ms_per_frame']:>11.1f}{row['rays_per_s']:>12,.0f}"
                  f"{(flops or 0) / 1e6:>11.3f}{share}{note}")
    for teacher, by_res in result["speedups"].items():
        text = ", ".join(f"{res}: {value:.1f}x" for res, value in by_res.items())
        print(f"paper student speed-up over {teacher}: {text}")
    print(f"headline ({result['headline_path']}): {result['speedup_vs_nerf'] or 0:.1f}x over NeRF, "
          f"{(result['student_matmul_fraction'] or 0) * 100:.1f}% of the matmul rate")
    for name, t in result["training"].items():
        print(f"training {name} (batch {t['batch_rays']}): {t['step_rays_per_s']:,.0f} rays/s per step "
              f"(forward {t['forward_rays_per_s']:,.0f}, backward {t['backward_rays_per_s']:,.0f}, "
              f"optimizer {t['optimizer_rays_per_s']:,.0f})")
    print_variants(result)
    if "pseudo_images_per_s" in result:
        h, w = result["pseudo_resolution"]
        print(f"pseudo data with the grid teacher: {result['pseudo_images_per_s']:.1f} images/s at {h}x{w}")


def print_variants(result: dict) -> None:
    variants = result["student_paper_variants"]
    if "chunk_sweep" in variants:
        sweep = variants["chunk_sweep"]
        text = ", ".join(f"{c}: {ms:.0f} ms" for c, ms in sweep["ms_per_frame"].items())
        print(f"paper student, rays per call ({text}): best {sweep['best_chunk']}")
    for res, row in variants.get("fused_cpu", {}).items():
        print(f"paper student, fused CPU path at {res}: {row['ms_per_frame']:.1f} ms/frame")
    for label in ("eager_static", "compiled"):
        for res, row in variants.get(label, {}).items():
            print(f"paper student {label} at {res}: {row['ms_per_frame']:.1f} ms/frame (warm-up {row['warmup_s']:.0f} s)")
    for res, row in variants.items():
        if res.isdigit():
            text = ", ".join(f"{k} {v['ms_per_frame']:.2f} ms" if "ms_per_frame" in v else f"{k} failed: {v['error']}"
                             for k, v in row.items())
            print(f"paper student at {res}: {text}")
    if "precision_change" in result:
        p = result["precision_change"]
        print(f"scene student vs teacher: fp32 {p['fp32_psnr']:.3f} dB, bf16 {p['bf16_psnr']:.3f} dB "
              f"(change {p['psnr_change_db']:+.3f} dB)")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="r2l-bench", description=__doc__)
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    p.add_argument("--quick", action="store_true", help="fewer repeats and estimates: under 5 minutes on a CPU")
    p.add_argument("--scene", type=Path, default=DEFAULT_SCENE, help="a scene checkpoint with a grid teacher "
                   "(default: the bundled demo)")
    p.add_argument("--resolutions", default="100,200,400", help="square frame sizes (default 100,200,400)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    args = p.parse_args(argv)
    try:
        device = resolve_device(args.device)
    except DeviceError as exc:
        print(f"r2l-bench: error: {exc}", file=sys.stderr)
        return 2
    try:
        resolutions = tuple(int(r) for r in args.resolutions.split(","))
    except ValueError:
        print(f"r2l-bench: error: --resolutions takes sizes like 100,200,400, got '{args.resolutions}'", file=sys.stderr)
        return 2
    result = run_bench(device, args.quick, args.scene, resolutions)
    print(json.dumps(result, indent=2)) if args.json else print_table(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
