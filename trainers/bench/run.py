"""What one `r2l-bench` run measures: the models it builds, renders at each size, training and pseudo-data
throughput, the tiny student's paths and its onnxruntime row, and the verdicts on the targets, as one dict."""

from __future__ import annotations

import copy
import dataclasses
import platform
import sys
from pathlib import Path

import torch

from r2l_viewer.core.assets import demo_checkpoint_path
from r2l_viewer.core.chunk_team import TEAM_CHUNK, shared_cpu_team
from r2l_viewer.core.model_text import saved_bytes
from r2l_viewer.core.checkpoint import CheckpointError, load_scene
from r2l_viewer.core.device import describe_device
from r2l_viewer.core.metrics import flops_per_ray, scene_flops_per_ray
from r2l_viewer.core.models import NerfConfig, Student, StudentConfig, VanillaNerf, parameter_count
from r2l_viewer.core.occupancy import teacher_occupancy
from r2l_viewer.core.render import chunk_rays

from trainers.bench.ceiling import gemm_ceiling, share_of_ceiling
from trainers.bench.headline import choose_headline
from trainers.bench.measure import bench_rays, frame_times, median, pseudo_throughput, training_throughput
from trainers.bench.onnx_speed import onnx_frames
from trainers.bench.targets import check_targets
from trainers.bench.variants import bf16_fidelity, fast_frame_ms, precision_change, render_variants
from trainers.jobs.distill import student_config_for, teacher_box
from trainers.presets import get_preset

DEFAULT_SCENE = demo_checkpoint_path()
RESOLUTIONS = (100, 200, 400)
MIN_SIZE, MAX_SIZE = 8, 2048  # frame sides the bench accepts (2048: 4 M rays, seconds per student frame on a CPU)
CEILING_NOTE = ("each path's matmul ceiling: its model's own layer shapes as bare matrix products, on the same rays "
                "per call and the same threads; a share above 100% is reported as a measurement error")


def build_models(scene_path: Path | None, device) -> tuple[dict, object]:
    """The paper-size student, the tiny student, the vanilla NeRF and (from a scene checkpoint) the grid teacher.
    The tiny student is the scene's own when the scene has one next to its grid teacher, else the tiny preset's
    (placed in the scene as the distill job places it, when there is a grid teacher)."""
    models = {"student_paper": Student(StudentConfig()), "nerf": VanillaNerf(NerfConfig())}
    scene = None
    if scene_path is not None:
        try:
            scene = load_scene(scene_path)
        except CheckpointError as exc:
            print(f"r2l-bench: no grid teacher measured ({exc})", file=sys.stderr)
    if scene is not None and scene.teacher is not None and scene.teacher["kind"] == "grid":
        models["grid"] = scene.build_teacher(device)
    if tiny_from_scene(models, scene):
        models["student_tiny"] = scene.build_student(device)
    else:
        models["student_tiny"] = tiny_student(scene, models.get("grid"))
    return {k: m.to(device).eval() for k, m in models.items()}, scene


def tiny_from_scene(models: dict, scene) -> bool:
    """Whether the bench's tiny student is the scene's own (it is when the scene has a grid teacher and a student)."""
    return "grid" in models and scene.student is not None


def tiny_student(scene, grid_teacher) -> Student:
    """An untrained tiny student; with a grid teacher, fitted to its scene and holding its occupancy as the distill
    job's does."""
    student = Student(tiny_student_config(scene, grid_teacher))
    config = student.config
    if config.uses_occupancy:
        student.set_occupancy(teacher_occupancy(grid_teacher, config.box_min, config.box_max,
                                                config.occupancy_resolution))
    return student


def tiny_student_config(scene, grid_teacher) -> StudentConfig:
    """The tiny preset's student config; with a grid teacher, fitted to its scene as the distill job fits it
    (without one there is no box, so no occupancy grid)."""
    distill = get_preset("tiny").distill
    if grid_teacher is None:
        return dataclasses.replace(distill.student, occupancy_resolution=0)
    box = (teacher_box(grid_teacher) or (scene.meta.box_min, scene.meta.box_max)) if distill.points_in_box else None
    return student_config_for(distill.student, scene.meta, distill.normalize_points, box)


def describe_student(config: StudentConfig) -> str:
    """The student's encoding and shape in a few words."""
    if config.encoding == "grid":
        levels = f"planes {'/'.join(map(str, config.grid_planes))}" if config.grid_planes else ""
        if config.grid_volumes:
            levels += (", " if levels else "") + f"volumes {'/'.join(map(str, config.grid_volumes))}"
        product = ", multiplied" if config.grid_combine == "product" else ""
        encoding = f"grid encoding ({levels} x {config.grid_channels} channels{product})"
        if config.occupancy_resolution:
            spacing = f", at u^{config.point_spacing:g} of its span" if config.point_spacing != 1.0 else ""
            encoding += f", points in the teacher's occupancy ({config.occupancy_resolution}^3{spacing})"
    else:
        encoding = f"frequency encoding ({config.frequencies} octaves)"
    depth = ", colour and depth out" if config.depth else ""
    return f"{encoding}, {config.points_per_ray} points, {config.blocks} blocks x {config.width}{depth}"


def tiny_student_facts(models: dict, scene) -> dict:
    """Where the bench's tiny student comes from, its encoding, and its bytes and the grid teacher's as stored in
    the scene checkpoint (None where the scene holds no such record)."""
    from_scene = tiny_from_scene(models, scene)
    config = models["student_tiny"].config
    return {
        "source": f"scene ({scene.student.get('stage')})" if from_scene else "tiny preset (untrained)",
        "encoding": config.encoding,
        "description": describe_student(config),
        "bytes_on_disk": {"student_tiny": saved_bytes(scene.student["weights"]) if from_scene else None,
                          "grid": saved_bytes(scene.teacher["weights"]) if "grid" in models else None},
    }


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


PLAIN_CHUNK = 16384  # rays per call of every model's plain forward in the bench
NERF_TEAM_CHUNK = 128  # rays per call of the NeRF on a chunk team (24k samples: a full matrix product per call)


def measure_renders(models: dict, device, resolutions, quick: bool) -> dict:
    """Each model's plain forward at each resolution; students' rows with their achieved FLOP/s beside their own
    matmul ceiling; the NeRF's also on the chunk team (its fastest CPU path) where there is one."""
    results = {}
    team = shared_cpu_team() if device.type == "cpu" else None
    for name, model in models.items():
        flops = flops_per_ray(every_ray(model), n_rays=256) if name != "grid" else None  # per ray through the net
        entry = {"params": parameter_count(model), "flops_per_ray": flops, "frames": {}}
        for res in resolutions:
            action, fraction, repeats = plan(name, res, device, quick)
            if action == "skip":
                entry["frames"][str(res)] = {"skipped": "would take over a few minutes per frame on this device"}
                continue
            entry["frames"][str(res)] = render_row(name, model, res, device, (fraction, repeats), flops)
            if name == "nerf" and team is not None:
                team_times, _ = frame_times(model, res, device, 3, chunk=NERF_TEAM_CHUNK, ray_fraction=fraction,
                                            team=team)
                entry["frames"][str(res)]["team_ms_per_frame"] = median(team_times)
            print(f"  measured {name} at {res}x{res}: {entry['frames'][str(res)]['ms_per_frame']:.1f} ms",
                  file=sys.stderr)
        results[name] = entry
    return results


def render_row(name: str, model, res: int, device, plan_: tuple[float, int], flops: float | None) -> dict:
    """One model's plain forward at one resolution: ms per frame, rays/s, and for a student FLOP/s and ceiling."""
    fraction, repeats = plan_
    times, estimated = frame_times(model, res, device, repeats, chunk=PLAIN_CHUNK, ray_fraction=fraction)
    ms = median(times)
    row = {"ms_per_frame": ms, "rays_per_s": res * res / (ms / 1000.0), "repeats": repeats}
    if estimated:
        row["estimated_from_ray_share"] = fraction
    if flops and name.startswith("student"):  # FLOPs of the rays that run the network, in matrices of their rows
        share = network_share(model, res, device)
        rows = max(1, int(min(chunk_rays(model, PLAIN_CHUNK), max(1, int(res * res * fraction))) * share))
        row.update(share_of_ceiling(flops * share * row["rays_per_s"], gemm_ceiling(model, rows, device)))
        if share < 1.0:
            row["network_share"] = share
    elif flops:
        row["flops_per_s"] = flops * row["rays_per_s"]  # a NeRF's layers see rays x samples rows: no ceiling
    return row


def speedups(renders: dict, resolutions) -> dict:
    """The paper-size student's speed-up over each teacher at each resolution both were measured at, plain forward
    against plain forward (rays made before the timer for both)."""
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


def pseudo_meta(meta, size: int | None):
    """The scene's metadata with its training views resized to size x size (None: as they are)."""
    if size is None:
        return meta
    return dataclasses.replace(meta, intrinsics=meta.intrinsics.resized(size, size))


def run_bench(device, quick: bool, scene_path: Path | None, resolutions=RESOLUTIONS,
              pseudo_size: int | None = None) -> dict:
    torch.manual_seed(0)
    models, scene = build_models(scene_path, device)
    renders = measure_renders(models, device, resolutions, quick)
    if "grid" in models:  # its cost depends on what the rays see: counted as every tool counts it
        renders["grid"]["flops_per_ray"] = scene_flops_per_ray(models["grid"], scene)
    ups = speedups(renders, resolutions)
    headline = next((r for r in resolutions if str(r) in ups.get("nerf", {})), None)
    result = {
        "device": describe_device(device),
        "torch": torch.__version__,
        "dtype": "float32 (bf16 where a row says so)",
        "python": platform.python_version(),
        "quick": quick,
        "ceiling": CEILING_NOTE,
        "renders": renders,
        "speedups": ups,
        "speedup_vs_nerf": None,
        "student_matmul_fraction": None,
        "headline_resolution": [headline, headline] if headline else None,
        "training": measure_training(models, device, quick, scene),
        "student_tiny_model": tiny_student_facts(models, scene),
    }
    if tiny_from_scene(models, scene):
        result["precision_change"] = precision_change(models["student_tiny"], models["grid"], device, resolutions[0])
    if device.type == "cuda":  # bf16 is a headline candidate only there: decided on the paper network itself
        result["paper_bf16"] = bf16_fidelity(models["student_paper"], device, resolutions[0])
    variants = render_variants(models["student_paper"], device, resolutions, quick)
    result["student_paper_variants"] = variants
    choose_headline(result, renders, variants, headline or resolutions[0], headline is not None)
    if device.type == "cpu":
        result["student_tiny_paths"] = tiny_paths(models["student_tiny"], device, resolutions, quick)
        result["student_tiny_crossing"] = crossing_rows(models["student_tiny"], device, resolutions, quick)
    # onnxruntime runs the network on every ray (a fixed graph): torch is timed the same way beside it
    result["student_tiny_onnx"] = onnx_frames(every_ray(models["student_tiny"]),
                                              [r for r in resolutions if not quick or r <= 200])
    if "grid" in models:
        meta = pseudo_meta(scene.meta, pseudo_size or (400 if device.type == "cuda" else None))
        result["pseudo_images_per_s"] = pseudo_throughput(models["grid"], meta, device, 5 if quick else 20)
        result["pseudo_resolution"] = [meta.intrinsics.height, meta.intrinsics.width]
    result["targets"] = check_targets(result, device)
    return result


def measure_training(models: dict, device, quick: bool, scene=None) -> dict:
    """Training throughput of the paper student and of a fresh tiny-preset student (as the distill job would
    train it); on CUDA also in bf16, as the presets train there."""
    paper_batch = 4096 if device.type == "cpu" else 65536
    tiny = tiny_student(scene, models.get("grid")).to(device)
    training = {
        "student_paper": training_throughput(models["student_paper"], device, paper_batch, 3 if quick else 10),
        "student_tiny": training_throughput(tiny, device, 4096, 5 if quick else 20),
    }
    training["student_tiny"]["encoding"] = tiny.config.encoding
    if device.type == "cuda":
        training["student_paper_bf16"] = training_throughput(models["student_paper"], device, paper_batch, 10,
                                                             precision="bf16")
    return training


def tiny_paths(model, device, resolutions, quick: bool) -> dict:
    """The tiny student's ms per frame on the viewer's CPU paths (the viewer's frame-rate target is about it)."""
    team = shared_cpu_team()
    out = {}
    for res in resolutions:
        if quick and res > 200:
            continue
        row = {"fused_cpu": fast_frame_ms(model, res, device, 5, 4096)}
        if team is not None:
            row["fused_cpu_team"] = fast_frame_ms(model, res, device, 5, TEAM_CHUNK, team)
        out[str(res)] = row
    return out


def crossing_rows(model, device, resolutions, quick: bool) -> dict:
    """Per size, for a tiny student with an occupancy grid (none without one): the share of the bench view's rays
    that cross its occupancy and so run its network (the rest show the background), and, where that is not all,
    the viewer's team path with every ray through the network (as when the object fills the frame)."""
    if not uses_occupancy(model):  # every ray runs the network, as the paths above measured
        return {}
    full = every_ray(model)
    team = shared_cpu_team()
    out = {}
    for res in resolutions:
        if quick and res > 200:
            continue
        share = network_share(model, res, device)
        row = {"network_share": share}
        if share < 1.0:
            row["every_ray_ms"] = fast_frame_ms(full, res, device, 5, TEAM_CHUNK if team else 4096, team)
        out[str(res)] = row
    return out


def uses_occupancy(model) -> bool:
    return isinstance(model, Student) and model.config.uses_occupancy


def network_share(model, resolution: int, device) -> float:
    """The share of the bench view's rays that run the model's network: those that cross a student's occupancy
    (all of them for any other model)."""
    if not uses_occupancy(model):
        return 1.0
    origins, directions = bench_rays(resolution, device)
    with torch.inference_mode():
        empty = model.placed_points(origins, directions)[1]
    return 1.0 - float(empty.float().mean())


def every_ray(model):
    """A copy of a student that runs its network on every ray, even those that cross no occupied cell (the
    model itself for any other)."""
    if not uses_occupancy(model):
        return model
    full = copy.deepcopy(model)
    full.skips_empty_rays = False
    return full
